{{/*
Cross-field rules a JSON schema cannot state. Each rule is one
`llmaz-serverless.validateValues.<rule>` helper that prints one line per
problem (or nothing); `llmaz-serverless.validateValues` runs them all and
joins every line into one `fail`, so a user sees every problem at once.
Lines read `<path>: <what is wrong> (got <value>); fix: <what to do> [<rule id>]`.
The rule ids, conditions and limits are the ones `llmaz-serverless validate`
applies (python/src/llmaz_serverless/values/rules.py); both are documented
once in docs/design/validation.md and kept equal by
python/tests/charts/test_validate_parity.py. Called from templates/validate.yaml.
*/}}

{{- define "llmaz-serverless.validateValues" -}}
{{- $rules := list
  "movedKeys"
  "uniqueModelNames"
  "uniqueServedNames"
  "uniqueRoutes"
  "modelReferences"
  "fallbackModelAlwaysOn"
  "fallbackOrPlaceholder"
  "placeholderNeedsInterceptorRoute"
  "replicaBounds"
  "coldStartCoversLoad"
  "cooldownCoversColdStart"
  "prewarmCoversColdStart"
  "scalingModifiers"
  "modifiersTriggers"
  "zeroNeedsWakeTrigger"
  "prometheusSignals"
  "uniqueCronNames"
  "cronSchedules"
  "asyncNeedsWorker"
  "workerNeedsAsyncModel"
  "gatewayPdb"
  "gracePeriods"
  "eventRules" -}}
{{- $messages := list -}}
{{- range $rule := $rules -}}
{{- $out := include (printf "llmaz-serverless.validateValues.%s" $rule) $ | trim -}}
{{- if $out -}}
{{- $messages = append $messages $out -}}
{{- end -}}
{{- end -}}
{{- if $messages -}}
{{- fail (printf "\nVALUES VALIDATION:\n%s" (join "\n" $messages)) -}}
{{- end -}}
{{- end -}}

{{/*
Keys renamed inside a component's `config`: the generated schema lets them
through so that this line names the new place (helm's schema error cannot).
The same pairs as CONFIG_RENAMES in python/src/llmaz_serverless/values/messages.py
(tests/charts/test_moved_keys.py compares them).
*/}}
{{- define "llmaz-serverless.validateValues.movedKeys" -}}
{{- $moved := dict
  "gateway.config.upstream.retryBackoff" "gateway.config.upstream.backoff.initial"
  "gateway.config.upstream.retryBackoffMax" "gateway.config.upstream.backoff.max"
  "warmup.config.backoff.base" "warmup.config.backoff.initial" -}}
{{- range $old := keys $moved | sortAlpha -}}
{{- $parts := splitList "." $old -}}
{{- $node := $.Values -}}
{{- range $key := initial $parts -}}
{{- $node = ternary (get $node $key) dict (and (kindIs "map" $node) (kindIs "map" (get $node $key))) -}}
{{- end -}}
{{- if hasKey $node (last $parts) }}
{{ $old }}: this setting moved (got {{ get $node (last $parts) | toJson }}); fix: set it as {{ get $moved $old }} instead. [values/moved-key]
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The merged models with their index in `models`, enabled or not: [{i, m}]. */}}
{{- define "llmaz-serverless.validateValues.allModels" -}}
{{- $out := list -}}
{{- range $i, $m := .Values.models -}}
{{- $out = append $out (dict "i" $i "m" (mergeOverwrite (deepCopy $.Values.modelDefaults) (deepCopy $m))) -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
Least seconds from an empty pod to a Ready, warmed one (a merged model in,
a number out): the backend's floor plus warmup.deadline when warmup is on.
Floors from measured start-ups (docs/design/validation.md): vLLM, SGLang and
TGI import and initialise for a minute before loading a single weight;
llama.cpp and ollama map a GGUF file and start in seconds.
*/}}
{{- define "llmaz-serverless.validateValues.loadSeconds" -}}
{{- $floors := dict "vllm" 60 "sglang" 60 "tgi" 60 "llamacpp" 15 "ollama" 15 -}}
{{- $seconds := int (get $floors (default "vllm" .backend.name) | default 60) -}}
{{- if and .warmup.enabled .warmup.deadline -}}
{{- $seconds = add $seconds (include "llmaz-serverless.durationSeconds" .warmup.deadline) -}}
{{- end -}}
{{- $seconds -}}
{{- end -}}

{{/*
The cold-start budget of a merged model: the longest it may take from zero
to serving by its own timeouts.coldStart, and never less than loadSeconds.
*/}}
{{- define "llmaz-serverless.validateValues.coldStartSeconds" -}}
{{- $load := int (include "llmaz-serverless.validateValues.loadSeconds" .) -}}
{{- $timeout := 0 -}}
{{- if .timeouts.coldStart }}{{ $timeout = int (include "llmaz-serverless.durationSeconds" .timeouts.coldStart) }}{{ end -}}
{{- max $load $timeout -}}
{{- end -}}

{{/* "true" when a merged model can reach zero pods: idle 0, or min 0 without an idle count. */}}
{{- define "llmaz-serverless.validateValues.scalesToZero" -}}
{{- $s := .scaling -}}
{{- $idle := not (kindIs "invalid" $s.idleReplicaCount) -}}
{{- if or (and $idle (eq (int $s.idleReplicaCount) 0)) (and (not $idle) (eq (int $s.minReplicaCount) 0)) -}}
true
{{- end -}}
{{- end -}}

{{/* Two models with one name would render two objects with one name. */}}
{{- define "llmaz-serverless.validateValues.uniqueModelNames" -}}
{{- $seen := dict -}}
{{- range $i, $m := .Values.models -}}
{{- if hasKey $seen $m.name }}
models[{{ $i }}].name: "{{ $m.name }}" is also the name of models[{{ get $seen $m.name }}] (got "{{ $m.name }}"); fix: give every model a unique name. [models/duplicate-name]
{{- else -}}
{{- $_ := set $seen $m.name (toString $i) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The gateway routes on the OpenAI model id: two models may not answer to one id. */}}
{{- define "llmaz-serverless.validateValues.uniqueServedNames" -}}
{{- $seen := dict -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- if .m.enabled -}}
{{- $served := default .m.name .m.servedName -}}
{{- if hasKey $seen $served }}
models[{{ .i }}].servedName: "{{ $served }}" is already served by models[{{ get $seen $served }}] (got "{{ $served }}"); fix: set a different servedName (the OpenAI model id clients send). [routing/duplicate-served-name]
{{- else -}}
{{- $_ := set $seen $served (toString .i) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Two InterceptorRoutes matching one request make routing ambiguous. A route
without hosts matches its own name, and a header without a value requires
the route's name: both are unique per model, so only explicit hosts (with
an explicit header value, if a header is set) can overlap.
*/}}
{{- define "llmaz-serverless.validateValues.uniqueRoutes" -}}
{{- $seen := dict -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- $header := lower (default "" .m.route.header.name) -}}
{{- $value := ternary (default "" .m.route.header.value) "" (ne $header "") -}}
{{- if and .m.enabled .m.route.hosts (or (not $header) $value) -}}
{{- $i := .i -}}
{{- $reported := false -}}
{{- $paths := .m.route.pathPrefixes | default (list "(any)") -}}
{{- range $host := .m.route.hosts -}}
{{- range $path := $paths -}}
{{- $key := printf "%s|%s|%s|%s" (lower $host) $path $header $value -}}
{{- if and (hasKey $seen $key) (not $reported) }}
models[{{ $i }}].route: matches the same requests as models[{{ get $seen $key }}] (got host {{ lower $host }}, path {{ $path }}{{ if $header }}, header {{ $header }}: {{ $value }}{{ end }}); fix: give each model its own host, path prefix or header value. [routing/duplicate-host-path]
{{- $reported = true -}}
{{- else if not (hasKey $seen $key) -}}
{{- $_ := set $seen $key (toString $i) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* failover and coldStart.fallback.model name another enabled model, not the model itself. */}}
{{- define "llmaz-serverless.validateValues.modelReferences" -}}
{{- $all := include "llmaz-serverless.validateValues.allModels" . | fromYamlArray -}}
{{- $enabled := dict -}}
{{- range $all }}{{ if .m.enabled }}{{ $_ := set $enabled .m.name true }}{{ end }}{{ end -}}
{{- range $all -}}
{{- if .m.enabled -}}
{{- $refs := list -}}
{{- if .m.failover }}{{ $refs = append $refs (list "failover" .m.failover) }}{{ end -}}
{{- if .m.coldStart.fallback.enabled }}{{ $refs = append $refs (list "coldStart.fallback.model" .m.coldStart.fallback.model) }}{{ end -}}
{{- $i := .i -}}
{{- $name := .m.name -}}
{{- range $refs -}}
{{- $field := index . 0 -}}
{{- $target := index . 1 -}}
{{- if not $target }}
models[{{ $i }}].{{ $field }}: no model named (got ""); fix: set it to the name of another entry of models, or disable coldStart.fallback. [routing/unknown-model-reference]
{{- else if eq $target $name }}
models[{{ $i }}].{{ $field }}: a model cannot stand in for itself (got "{{ $target }}"); fix: name another, always-on model. [routing/unknown-model-reference]
{{- else if not (hasKey $enabled $target) }}
models[{{ $i }}].{{ $field }}: no enabled model is named "{{ $target }}" (got "{{ $target }}"); fix: use the name of an enabled entry of models ({{ keys $enabled | sortAlpha | join ", " }}). [routing/unknown-model-reference]
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A cold-start fallback that is itself at zero would be cold too. */}}
{{- define "llmaz-serverless.validateValues.fallbackModelAlwaysOn" -}}
{{- $all := include "llmaz-serverless.validateValues.allModels" . | fromYamlArray -}}
{{- range $all -}}
{{- if and .m.enabled .m.coldStart.fallback.enabled .m.coldStart.fallback.model -}}
{{- $i := .i -}}
{{- $target := .m.coldStart.fallback.model -}}
{{- range $all -}}
{{- if and (eq .m.name $target) (or (lt (int .m.scaling.minReplicaCount) 1) (not (kindIs "invalid" .m.scaling.idleReplicaCount))) }}
models[{{ $i }}].coldStart.fallback.model: "{{ $target }}" scales to zero (got minReplicaCount {{ .m.scaling.minReplicaCount }}, idleReplicaCount {{ .m.scaling.idleReplicaCount | toJson }}); fix: keep the fallback model always on with scaling.minReplicaCount >= 1 and no idleReplicaCount. [coldstart/fallback-scales-to-zero]
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "llmaz-serverless.validateValues.fallbackOrPlaceholder" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- if and .m.enabled .m.coldStart.fallback.enabled .m.coldStart.placeholder.enabled }}
models[{{ .i }}].coldStart: fallback and placeholder are both enabled (got both); fix: choose one: the placeholder answers at once, the fallback answers with another model. [coldstart/fallback-and-placeholder]
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "llmaz-serverless.validateValues.placeholderNeedsInterceptorRoute" -}}
{{- if ne .Values.httpAddon.api "InterceptorRoute" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- if and .m.enabled .m.coldStart.placeholder.enabled }}
models[{{ .i }}].coldStart.placeholder.enabled: the placeholder response needs the InterceptorRoute API (got httpAddon.api {{ $.Values.httpAddon.api }}); fix: upgrade the HTTP add-on to >= 0.14 and set httpAddon.api to InterceptorRoute, or disable the placeholder. [coldstart/placeholder-needs-interceptorroute]
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
KEDA rejects min > max. idleReplicaCount must be below minReplicaCount as
written: KEDA itself counts a minimum of 0 as 1, but idle 0 with min 0 does
nothing and usually means minReplicaCount >= 1 was meant.
*/}}
{{- define "llmaz-serverless.validateValues.replicaBounds" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- $s := .m.scaling -}}
{{- if and .m.enabled (gt (int $s.minReplicaCount) (int $s.maxReplicaCount)) }}
models[{{ .i }}].scaling.minReplicaCount: larger than maxReplicaCount (got {{ $s.minReplicaCount }} > {{ $s.maxReplicaCount }}); fix: lower minReplicaCount or raise maxReplicaCount. [scaling/max-below-min]
{{- end -}}
{{- if and .m.enabled (not (kindIs "invalid" $s.idleReplicaCount)) (ge (int $s.idleReplicaCount) (int $s.minReplicaCount)) }}
models[{{ .i }}].scaling.idleReplicaCount: must be below minReplicaCount (got idle {{ $s.idleReplicaCount }}, min {{ $s.minReplicaCount }}); fix: use idleReplicaCount 0 with minReplicaCount >= 1, or remove idleReplicaCount. [scaling/idle-not-below-min]
{{- end -}}
{{- if and .m.enabled .m.prewarm.onInstall (gt (int .m.prewarm.replicas) (int $s.maxReplicaCount)) }}
models[{{ .i }}].prewarm.replicas: more than maxReplicaCount (got {{ .m.prewarm.replicas }} > {{ $s.maxReplicaCount }}); fix: pre-warm at most maxReplicaCount pods. [scaling/prewarm-above-max]
{{- end -}}
{{- end -}}
{{- $w := .Values.worker.scaling -}}
{{- if and .Values.worker.enabled (gt (int $w.minReplicaCount) (int $w.maxReplicaCount)) }}
worker.scaling.minReplicaCount: larger than maxReplicaCount (got {{ $w.minReplicaCount }} > {{ $w.maxReplicaCount }}); fix: lower minReplicaCount or raise maxReplicaCount. [scaling/max-below-min]
{{- end -}}
{{- end -}}

{{/*
timeouts.coldStart is the route's readiness timeout and the gateway's hold:
below the load time every request that wakes the model times out while the
pod keeps loading. A fallback route waits on purpose for less.
*/}}
{{- define "llmaz-serverless.validateValues.coldStartCoversLoad" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- if and .m.enabled (not .m.coldStart.fallback.enabled) .m.timeouts.coldStart -}}
{{- $load := int (include "llmaz-serverless.validateValues.loadSeconds" .m) -}}
{{- $timeout := int (include "llmaz-serverless.durationSeconds" .m.timeouts.coldStart) -}}
{{- if lt $timeout $load }}
models[{{ .i }}].timeouts.coldStart: shorter than the model's load time (got {{ .m.timeouts.coldStart }} = {{ $timeout }}s < {{ $load }}s: {{ default "vllm" .m.backend.name }}'s start-up{{ if .m.warmup.enabled }} plus warmup.deadline {{ .m.warmup.deadline }}{{ end }}); fix: set timeouts.coldStart to at least {{ $load }}s (minutes for big models), or enable coldStart.fallback. [timeouts/cold-start-below-load-time]
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
A model woken by a request whose client then gave up has no held request
left; only cooldownPeriod keeps it from being scaled back to zero while it
is still loading. So the cooldown must cover the cold-start budget.
*/}}
{{- define "llmaz-serverless.validateValues.cooldownCoversColdStart" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- if and .m.enabled (include "llmaz-serverless.validateValues.scalesToZero" .m) -}}
{{- $cold := int (include "llmaz-serverless.validateValues.coldStartSeconds" .m) -}}
{{- if lt (int .m.scaling.cooldownPeriod) $cold }}
models[{{ .i }}].scaling.cooldownPeriod: shorter than the cold start (got {{ .m.scaling.cooldownPeriod }}s < {{ $cold }}s, the larger of timeouts.coldStart and the model's load time); fix: raise cooldownPeriod to at least {{ $cold }}, or lower timeouts.coldStart if the model loads faster. [scaling/cooldown-below-cold-start]
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A pre-warmed install starts pods no trigger asked for: initialCooldownPeriod must outlast their load. */}}
{{- define "llmaz-serverless.validateValues.prewarmCoversColdStart" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- if and .m.enabled .m.prewarm.onInstall (include "llmaz-serverless.validateValues.scalesToZero" .m) -}}
{{- $cold := int (include "llmaz-serverless.validateValues.coldStartSeconds" .m) -}}
{{- if lt (int .m.scaling.initialCooldownPeriod) $cold }}
models[{{ .i }}].scaling.initialCooldownPeriod: a pre-warmed model would be scaled to zero before it has loaded (got {{ .m.scaling.initialCooldownPeriod }}s < {{ $cold }}s, the larger of timeouts.coldStart and the model's load time); fix: raise initialCooldownPeriod to at least {{ $cold }}. [scaling/initial-cooldown-below-cold-start]
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "llmaz-serverless.validateValues.scalingModifiers" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- $sm := .m.scaling.scalingModifiers -}}
{{- if and .m.enabled $sm.enabled (not $sm.formula) }}
models[{{ .i }}].scaling.scalingModifiers.formula: empty while scalingModifiers is enabled (got ""); fix: write a formula over the trigger names (http, waiting, kvcache, queue, inflight, cron_<name>), e.g. "max(http, waiting)". [scaling/modifiers-formula-empty]
{{- end -}}
{{- if and .m.enabled $sm.enabled .m.scaling.fallback.enabled (or (ne $sm.metricType "AverageValue") (not (regexMatch "^[1-9][0-9]*$" (toString $sm.target)))) }}
models[{{ .i }}].scaling.scalingModifiers: KEDA applies fallback with scalingModifiers only for metricType AverageValue and a whole-number target above 0 (got metricType {{ $sm.metricType }}, target "{{ $sm.target }}"); fix: use metricType AverageValue and an integer target, or disable scaling.fallback. [scaling/modifiers-fallback-needs-average-value]
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The triggers of a merged model that can wake it from zero ({root, m} in, a YAML
list out): of the model's triggers (model.triggerNames), http, the async ones
(queue, and inflight with Redis) and cron_<name>; a metric trigger cannot, since
a model at zero exports no metrics, and prewarm only holds what a rule asked for.
*/}}
{{- define "llmaz-serverless.validateValues.wakeTriggers" -}}
{{- $out := list -}}
{{- range (include "llmaz-serverless.model.triggerNames" (dict "root" .root "model" .m) | fromYamlArray) -}}
{{- if or (has . (list "http" "queue" "inflight")) (hasPrefix "cron_" .) }}{{ $out = append $out . }}{{ end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
KEDA refuses a formula that names a trigger the ScaledObject does not have.
The names a model has are model.triggerNames, the list the ScaledObject renders
from. Only the chart's own trigger words are checked.
*/}}
{{- define "llmaz-serverless.validateValues.modifiersTriggers" -}}
{{- $root := . -}}
{{- $words := list "http" "waiting" "kvcache" "queue" "inflight" "prewarm" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- $sm := .m.scaling.scalingModifiers -}}
{{- if and .m.enabled $sm.enabled (kindIs "string" $sm.formula) $sm.formula -}}
{{- $has := include "llmaz-serverless.model.triggerNames" (dict "root" $root "model" .m) | fromYamlArray -}}
{{- $missing := list -}}
{{- range (regexFindAll "[A-Za-z_][A-Za-z0-9_]*" $sm.formula -1) -}}
{{- if and (or (has . $words) (hasPrefix "cron_" .)) (not (has . $has)) }}{{ $missing = append $missing . }}{{ end -}}
{{- end -}}
{{- if $missing }}
models[{{ .i }}].scaling.scalingModifiers.formula: names {{ $missing | uniq | sortAlpha | join ", " }}, which this model's ScaledObject does not have (it has {{ $has | uniq | sortAlpha | join ", " }}) (got "{{ $sm.formula }}"); fix: use only the triggers it has, or turn on what renders the missing ones. [scaling/modifiers-unknown-trigger]
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
At zero a model exports no metrics, so only the http route, the async queue
(queue, inflight) or a cron window (cron_<name>) can wake it; a formula that
names none of them keeps it at zero. The formula language reads "-" as
subtraction, so a cron trigger is cron_<name with _ for ->.
*/}}
{{- define "llmaz-serverless.validateValues.zeroNeedsWakeTrigger" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- $sm := .m.scaling.scalingModifiers -}}
{{- if and .m.enabled $sm.enabled (kindIs "string" $sm.formula) $sm.formula (include "llmaz-serverless.validateValues.scalesToZero" .m) -}}
{{- $wake := include "llmaz-serverless.validateValues.wakeTriggers" (dict "root" $ "m" .m) | fromYamlArray -}}
{{- $words := regexFindAll "[A-Za-z_][A-Za-z0-9_-]*" $sm.formula -1 -}}
{{- $woken := false -}}
{{- $cronRefs := list -}}
{{- range $words -}}
{{- if has . $wake }}{{ $woken = true }}{{ end -}}
{{- if hasPrefix "cron-" . }}{{ $cronRefs = append $cronRefs . }}{{ end -}}
{{- end -}}
{{- if not $woken }}
models[{{ .i }}].scaling.scalingModifiers.formula: names no trigger that can wake the model from zero (got "{{ $sm.formula }}"); fix: include one of {{ $wake | sortAlpha | join ", " }} in the formula (e.g. max(http, waiting)), or set minReplicaCount >= 1. [scaling/zero-without-wake-trigger]
{{- end -}}
{{- if $cronRefs }}
models[{{ .i }}].scaling.scalingModifiers.formula: names {{ $cronRefs | uniq | sortAlpha | join ", " }}, but cron triggers are named cron_<name> (the formula reads "-" as subtraction) (got "{{ $sm.formula }}"); fix: write {{ $cronRefs | uniq | sortAlpha | join ", " | replace "-" "_" }} instead. [scaling/zero-without-wake-trigger]
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
With prometheus on, a signal whose metric the backend does not export gets
no trigger: an error when the model entry itself enables it (an inherited
modelDefaults switch is only validate's warning). A custom query naming
another backend's metric (quoted strings aside) always reads 0.
*/}}
{{- define "llmaz-serverless.validateValues.prometheusSignals" -}}
{{- if .Values.prometheus.enabled -}}
{{- $exported := dict "vllm" (list "waiting" "kvCache") "sglang" (list "waiting" "kvCache") "tgi" (list "waiting") "llamacpp" (list "waiting" "kvCache") "ollama" (list) -}}
{{- $prefixes := dict "vllm" "vllm:" "sglang" "sglang:" "tgi" "tgi_" "llamacpp" "llamacpp:" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- $m := .m -}}
{{- $i := int .i -}}
{{- $entry := index $.Values.models $i -}}
{{- $backend := default "vllm" $m.backend.name -}}
{{- $ownPrefix := get $prefixes $backend -}}
{{- if $m.enabled -}}
{{- range $signal := list "waiting" "kvCache" -}}
{{- $cfg := get ($m.scaling.prometheus | default dict) $signal | default dict -}}
{{- if and $cfg.enabled (not $cfg.query) (not (has $signal (get $exported $backend | default list))) (hasKey (dig "scaling" "prometheus" $signal dict $entry) "enabled") }}
models[{{ $i }}].scaling.prometheus.{{ $signal }}.enabled: {{ $backend }} exports no {{ $signal }} metric, so no trigger is rendered (got true); fix: set it to false, or write a query on a metric {{ $backend }} exports. [prometheus/metric-not-exported]
{{- else if and $cfg.enabled $cfg.query -}}
{{- $foreign := "" -}}
{{- range $name := regexFindAll "[A-Za-z_:][A-Za-z0-9_:]*" (regexReplaceAll "\"[^\"]*\"|'[^']*'" (toString $cfg.query) "") -1 -}}
{{- range $other, $prefix := $prefixes -}}
{{- if and (not $foreign) (ne $other $backend) (hasPrefix $prefix $name) (or (not $ownPrefix) (not (hasPrefix (toString $ownPrefix) $name))) -}}
{{- $foreign = $name -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $foreign }}
models[{{ $i }}].scaling.prometheus.{{ $signal }}.query: names {{ $foreign }}, which {{ $backend }} does not export, so it always reads 0 (got "{{ $cfg.query }}"); fix: query a metric {{ $backend }} exports{{ if $ownPrefix }} (names start with {{ $ownPrefix }}){{ else }} (it exports none; disable the signal){{ end }}. [prometheus/metric-not-exported]
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Cron window names become trigger names, which KEDA requires to be unique. */}}
{{- define "llmaz-serverless.validateValues.uniqueCronNames" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- if .m.enabled -}}
{{- $seen := dict -}}
{{- $i := .i -}}
{{- range .m.scaling.cron -}}
{{- if hasKey $seen (toString .name) }}
models[{{ $i }}].scaling.cron: two windows are named "{{ .name }}" (got "{{ .name }}" twice); fix: name every window uniquely (names become trigger names). [cron/duplicate-name]
{{- end -}}
{{- $_ := set $seen (toString .name) true -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Why a cron expression is not one KEDA's cron scaler (robfig/cron, standard
5-field parser) accepts, or nothing: five fields of comma-separated values,
ranges a-b, * or ?, each with an optional /step above 0; months and days of
the week may be names.
*/}}
{{- define "llmaz-serverless.validateValues.cronProblem" -}}
{{- $fields := regexFindAll "[^\\t\\n\\f\\r ]+" . -1 -}}
{{- $specs := list (list "minute" 0 59) (list "hour" 0 23) (list "day of month" 1 31) (list "month" 1 12) (list "day of week" 0 7) -}}
{{- $months := dict "JAN" 1 "FEB" 2 "MAR" 3 "APR" 4 "MAY" 5 "JUN" 6 "JUL" 7 "AUG" 8 "SEP" 9 "OCT" 10 "NOV" 11 "DEC" 12 -}}
{{- $days := dict "SUN" 0 "MON" 1 "TUE" 2 "WED" 3 "THU" 4 "FRI" 5 "SAT" 6 -}}
{{- $names := dict "3" $months "4" $days -}}
{{- $problem := "" -}}
{{- if ne (len $fields) 5 -}}
{{- $problem = printf "has %d fields; KEDA expects 5 (minute hour day-of-month month day-of-week)" (len $fields) -}}
{{- else -}}
{{- range $index, $text := $fields -}}
{{- $label := index $specs $index 0 -}}
{{- $low := index $specs $index 1 -}}
{{- $high := index $specs $index 2 -}}
{{- range $part := splitList "," $text -}}
{{- $pieces := splitn "/" 2 $part -}}
{{- $base := $pieces._0 -}}
{{- if $problem -}}
{{- else if and (eq (len $pieces) 2) (or (not (regexMatch "^[0-9]+$" $pieces._1)) (eq (atoi $pieces._1) 0)) -}}
{{- $problem = printf "%s field %q has a bad step %q" $label $text $pieces._1 -}}
{{- else if not (has $base (list "*" "?")) -}}
{{- $ends := splitList "-" $base -}}
{{- if gt (len $ends) 2 -}}
{{- $problem = printf "%s field %q is not a value or range" $label $text -}}
{{- else -}}
{{- range $end := $ends -}}
{{- $value := -1 -}}
{{- if regexMatch "^[0-9]+$" $end -}}
{{- $value = atoi $end -}}
{{- else if hasKey (get $names (toString $index) | default dict) (upper $end) -}}
{{- $value = int (get (get $names (toString $index)) (upper $end)) -}}
{{- end -}}
{{- if and (not $problem) (or (lt $value $low) (gt $value $high)) -}}
{{- $problem = printf "%s field %q: %q is outside %d-%d" $label $text $end $low $high -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $problem -}}
{{- end -}}

{{/* A window whose start or end KEDA cannot parse fails its trigger: it never opens. */}}
{{- define "llmaz-serverless.validateValues.cronSchedules" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- if .m.enabled -}}
{{- $i := .i -}}
{{- range $j, $window := .m.scaling.cron -}}
{{- range $key := list "start" "end" -}}
{{- $expr := get $window $key -}}
{{- if and (kindIs "string" $expr) $expr -}}
{{- $problem := include "llmaz-serverless.validateValues.cronProblem" $expr -}}
{{- if $problem }}
models[{{ $i }}].scaling.cron[{{ $j }}].{{ $key }}: {{ $problem }} (got "{{ $expr }}"); fix: write five fields, e.g. "0 8 * * 1-5". [cron/invalid-schedule]
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "llmaz-serverless.validateValues.asyncNeedsWorker" -}}
{{- if not .Values.worker.enabled -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- if and .m.enabled .m.async.enabled }}
models[{{ .i }}].async.enabled: queued jobs need the worker (got worker.enabled false); fix: set worker.enabled to true, or disable async for this model. [async/queue-without-worker]
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "llmaz-serverless.validateValues.workerNeedsAsyncModel" -}}
{{- if .Values.worker.enabled -}}
{{- $any := false -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- if and .m.enabled .m.async.enabled }}{{ $any = true }}{{ end -}}
{{- end -}}
{{- if not $any }}
worker.enabled: the worker has no queue to read, since no enabled model has async.enabled (got worker.enabled true); fix: set async.enabled on the models served asynchronously, or disable the worker. [async/worker-without-async-model]
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A PDB that allows no disruption blocks every node drain. */}}
{{- define "llmaz-serverless.validateValues.gatewayPdb" -}}
{{- $g := .Values.gateway -}}
{{- if and $g.enabled $g.pdb.enabled (not (kindIs "string" $g.pdb.minAvailable)) (ge (int $g.pdb.minAvailable) (int $g.replicas)) }}
gateway.pdb.minAvailable: leaves no pod that may be evicted (got minAvailable {{ $g.pdb.minAvailable }} with {{ $g.replicas }} replicas); fix: run more gateway replicas than minAvailable. [gateway/pdb-blocks-eviction]
{{- end -}}
{{- end -}}

{{/* A pod killed before its own shutdown budget ends cuts streams (gateway) or claimed jobs (worker). */}}
{{- define "llmaz-serverless.validateValues.gracePeriods" -}}
{{- $g := .Values.gateway -}}
{{- $delay := int (include "llmaz-serverless.durationSeconds" (dig "shutdownDelay" 5 $g.config)) -}}
{{- $timeout := int (include "llmaz-serverless.durationSeconds" (dig "shutdownTimeout" 120 $g.config)) -}}
{{- if and $g.enabled (le (int $g.terminationGracePeriodSeconds) (add $delay $timeout)) }}
gateway.terminationGracePeriodSeconds: not longer than the gateway's shutdown (got {{ $g.terminationGracePeriodSeconds }}s <= shutdownDelay {{ $delay }}s + shutdownTimeout {{ $timeout }}s); fix: raise terminationGracePeriodSeconds above {{ add $delay $timeout }} or shorten gateway.config.shutdownTimeout. [gateway/grace-period-below-shutdown]
{{- end -}}
{{- $w := .Values.worker -}}
{{- $drain := int (include "llmaz-serverless.durationSeconds" (dig "drainTimeout" 120 $w.config)) -}}
{{- if and $w.enabled (le (int $w.terminationGracePeriodSeconds) $drain) }}
worker.terminationGracePeriodSeconds: not longer than the worker's drain (got {{ $w.terminationGracePeriodSeconds }}s <= drainTimeout {{ $drain }}s); fix: raise terminationGracePeriodSeconds above {{ $drain }} or shorten worker.config.drainTimeout. [worker/grace-period-below-drain]
{{- end -}}
{{- end -}}

{{/*
Event rules (templates/_events.tpl): unique names; an empty pattern only with
matchAll; actions name enabled models; prewarm needs the gateway (it holds
the windows KEDA reads); submit needs the model's async path.
*/}}
{{- define "llmaz-serverless.validateValues.eventRules" -}}
{{- $enabled := dict -}}
{{- $all := dict -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- $_ := set $all .m.name .m -}}
{{- if .m.enabled }}{{ $_ := set $enabled .m.name .m }}{{ end -}}
{{- end -}}
{{- $names := dict -}}
{{- range $i, $r := .Values.eventRules -}}
{{- if hasKey $names $r.name }}
eventRules[{{ $i }}].name: "{{ $r.name }}" is also the name of eventRules[{{ get $names $r.name }}] (got "{{ $r.name }}"); fix: give every rule a unique name. [events/duplicate-rule-name]
{{- else -}}
{{- $_ := set $names $r.name (toString $i) -}}
{{- end -}}
{{- if and (empty $r.pattern) (not $r.matchAll) }}
eventRules[{{ $i }}].pattern: is empty, so the rule would match every event (got {{ default dict $r.pattern | toJson }}); fix: add a pattern such as type: ["com.example.thing.happened"], or set matchAll: true. [events/pattern-matches-everything]
{{- end -}}
{{- if and $r.matchAll (not (empty $r.pattern)) }}
eventRules[{{ $i }}].matchAll: is true but a pattern is set (got matchAll true); fix: drop matchAll or the pattern. [events/match-all-with-pattern]
{{- end -}}
{{- range $j, $a := $r.actions -}}
{{- $refs := list -}}
{{- if $a.prewarm }}{{ range $k, $m := $a.prewarm.models }}{{ $refs = append $refs (dict "path" (printf "prewarm.models[%d]" $k) "name" $m) }}{{ end }}{{ end -}}
{{- if $a.submit }}{{ $refs = append $refs (dict "path" "submit.model" "name" $a.submit.model) }}{{ end -}}
{{- range $refs -}}
{{- if not (hasKey $enabled .name) }}
eventRules[{{ $i }}].actions[{{ $j }}].{{ .path }}: {{ ternary "names a disabled model" "names no model of models" (hasKey $all .name) }} (got "{{ .name }}"); fix: use the name of an enabled entry of models ({{ keys $enabled | sortAlpha | join ", " | default "none" }}). [events/unknown-model]
{{- end -}}
{{- end -}}
{{- if and $a.prewarm $.Values.events.enabled (not $.Values.gateway.enabled) }}
eventRules[{{ $i }}].actions[{{ $j }}].prewarm: pre-warm windows are kept by the gateway (got gateway.enabled false); fix: enable the gateway or drop the prewarm action. [events/prewarm-without-gateway]
{{- end -}}
{{- if and $a.submit (hasKey $enabled $a.submit.model) -}}
{{- if not (get $enabled $a.submit.model).async.enabled }}
eventRules[{{ $i }}].actions[{{ $j }}].submit.model: "{{ $a.submit.model }}" is not served on the async path (got async.enabled false); fix: set async.enabled on that model (and worker.enabled). [events/submit-without-async]
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
