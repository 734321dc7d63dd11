{{/*
Cross-field rules a JSON schema cannot state. Each rule is one
`llmaz-serverless.validateValues.<rule>` helper that prints one line per
problem (or nothing); `llmaz-serverless.validateValues` runs them all and
joins every line into one `fail`, so a user sees every problem at once.
Lines read `<path>: <what is wrong> (got <value>); fix: <what to do>`.
Called from templates/validate.yaml.
*/}}

{{- define "llmaz-serverless.validateValues" -}}
{{- $rules := list
  "uniqueModelNames"
  "uniqueServedNames"
  "uniqueRoutes"
  "modelReferences"
  "fallbackModelAlwaysOn"
  "fallbackOrPlaceholder"
  "placeholderNeedsInterceptorRoute"
  "replicaBounds"
  "cooldownCoversColdStart"
  "prewarmCoversColdStart"
  "scalingModifiers"
  "uniqueCronNames"
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

{{/* The merged models with their index in `models`, enabled or not: [{i, m}]. */}}
{{- define "llmaz-serverless.validateValues.allModels" -}}
{{- $out := list -}}
{{- range $i, $m := .Values.models -}}
{{- $out = append $out (dict "i" $i "m" (mergeOverwrite (deepCopy $.Values.modelDefaults) (deepCopy $m))) -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* Two models with one name would render two objects with one name. */}}
{{- define "llmaz-serverless.validateValues.uniqueModelNames" -}}
{{- $seen := dict -}}
{{- range $i, $m := .Values.models -}}
{{- if hasKey $seen $m.name }}
models[{{ $i }}].name: "{{ $m.name }}" is also the name of models[{{ get $seen $m.name }}] (got "{{ $m.name }}"); fix: give every model a unique name.
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
models[{{ .i }}].servedName: "{{ $served }}" is already served by models[{{ get $seen $served }}] (got "{{ $served }}"); fix: set a different servedName (the OpenAI model id clients send).
{{- else -}}
{{- $_ := set $seen $served (toString .i) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Two InterceptorRoutes matching the same requests make routing ambiguous. */}}
{{- define "llmaz-serverless.validateValues.uniqueRoutes" -}}
{{- $seen := dict -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- if and .m.enabled .m.route.hosts (not .m.route.header.name) -}}
{{- $key := printf "%s|%s" (.m.route.hosts | sortAlpha | join ",") (.m.route.pathPrefixes | sortAlpha | join ",") -}}
{{- if hasKey $seen $key }}
models[{{ .i }}].route: hosts {{ .m.route.hosts | toJson }} and pathPrefixes {{ .m.route.pathPrefixes | toJson }} match the same requests as models[{{ get $seen $key }}] (got no header to tell them apart); fix: give the models different hosts or path prefixes, or set route.header.name.
{{- else -}}
{{- $_ := set $seen $key (toString .i) -}}
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
models[{{ $i }}].{{ $field }}: no model named (got ""); fix: set it to the name of another entry of models, or disable coldStart.fallback.
{{- else if eq $target $name }}
models[{{ $i }}].{{ $field }}: a model cannot stand in for itself (got "{{ $target }}"); fix: name another, always-on model.
{{- else if not (hasKey $enabled $target) }}
models[{{ $i }}].{{ $field }}: no enabled model is named "{{ $target }}" (got "{{ $target }}"); fix: use the name of an enabled entry of models ({{ keys $enabled | sortAlpha | join ", " }}).
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
models[{{ $i }}].coldStart.fallback.model: "{{ $target }}" scales to zero (got minReplicaCount {{ .m.scaling.minReplicaCount }}, idleReplicaCount {{ .m.scaling.idleReplicaCount | toJson }}); fix: keep the fallback model always on with scaling.minReplicaCount >= 1 and no idleReplicaCount.
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "llmaz-serverless.validateValues.fallbackOrPlaceholder" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- if and .m.enabled .m.coldStart.fallback.enabled .m.coldStart.placeholder.enabled }}
models[{{ .i }}].coldStart: fallback and placeholder are both enabled (got both); fix: choose one: the placeholder answers at once, the fallback answers with another model.
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "llmaz-serverless.validateValues.placeholderNeedsInterceptorRoute" -}}
{{- if ne .Values.httpAddon.api "InterceptorRoute" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- if and .m.enabled .m.coldStart.placeholder.enabled }}
models[{{ .i }}].coldStart.placeholder.enabled: the placeholder response needs the InterceptorRoute API (got httpAddon.api {{ $.Values.httpAddon.api }}); fix: upgrade the HTTP add-on to >= 0.14 and set httpAddon.api to InterceptorRoute, or disable the placeholder.
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* KEDA rejects min > max and idle >= min. */}}
{{- define "llmaz-serverless.validateValues.replicaBounds" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- $s := .m.scaling -}}
{{- if and .m.enabled (gt (int $s.minReplicaCount) (int $s.maxReplicaCount)) }}
models[{{ .i }}].scaling.minReplicaCount: larger than maxReplicaCount (got {{ $s.minReplicaCount }} > {{ $s.maxReplicaCount }}); fix: lower minReplicaCount or raise maxReplicaCount.
{{- end -}}
{{- if and .m.enabled (not (kindIs "invalid" $s.idleReplicaCount)) (ge (int $s.idleReplicaCount) (int $s.minReplicaCount)) }}
models[{{ .i }}].scaling.idleReplicaCount: must be below minReplicaCount (got idle {{ $s.idleReplicaCount }}, min {{ $s.minReplicaCount }}); fix: use idleReplicaCount 0 with minReplicaCount >= 1, or remove idleReplicaCount.
{{- end -}}
{{- if and .m.enabled .m.prewarm.onInstall (gt (int .m.prewarm.replicas) (int $s.maxReplicaCount)) }}
models[{{ .i }}].prewarm.replicas: more than maxReplicaCount (got {{ .m.prewarm.replicas }} > {{ $s.maxReplicaCount }}); fix: pre-warm at most maxReplicaCount pods.
{{- end -}}
{{- end -}}
{{- $w := .Values.worker.scaling -}}
{{- if and .Values.worker.enabled (gt (int $w.minReplicaCount) (int $w.maxReplicaCount)) }}
worker.scaling.minReplicaCount: larger than maxReplicaCount (got {{ $w.minReplicaCount }} > {{ $w.maxReplicaCount }}); fix: lower minReplicaCount or raise maxReplicaCount.
{{- end -}}
{{- end -}}

{{/*
A model woken by a request whose client then gave up has no held request
left; only cooldownPeriod keeps it from being scaled back to zero while it
is still loading. So the cooldown must cover the expected cold start.
*/}}
{{- define "llmaz-serverless.validateValues.cooldownCoversColdStart" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- $cold := int (include "llmaz-serverless.durationSeconds" .m.timeouts.coldStart) -}}
{{- if and .m.enabled (lt (int .m.scaling.cooldownPeriod) $cold) }}
models[{{ .i }}].scaling.cooldownPeriod: shorter than the expected cold start timeouts.coldStart (got {{ .m.scaling.cooldownPeriod }}s < {{ .m.timeouts.coldStart }} = {{ $cold }}s); fix: raise cooldownPeriod to at least {{ $cold }}, or lower timeouts.coldStart if the model loads faster.
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A pre-warmed install starts pods no trigger asked for: initialCooldownPeriod must outlast their load. */}}
{{- define "llmaz-serverless.validateValues.prewarmCoversColdStart" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- $cold := int (include "llmaz-serverless.durationSeconds" .m.timeouts.coldStart) -}}
{{- if and .m.enabled .m.prewarm.onInstall (lt (int .m.scaling.initialCooldownPeriod) $cold) }}
models[{{ .i }}].scaling.initialCooldownPeriod: a pre-warmed model would be scaled to zero before it has loaded (got {{ .m.scaling.initialCooldownPeriod }}s < timeouts.coldStart {{ $cold }}s); fix: raise initialCooldownPeriod to at least {{ $cold }}.
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "llmaz-serverless.validateValues.scalingModifiers" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- $sm := .m.scaling.scalingModifiers -}}
{{- if and .m.enabled $sm.enabled (not $sm.formula) }}
models[{{ .i }}].scaling.scalingModifiers.formula: empty while scalingModifiers is enabled (got ""); fix: write a formula over the trigger names (http, waiting, kvcache, queue, inflight, cron-<name>), e.g. "max(http, waiting)".
{{- end -}}
{{- if and .m.enabled $sm.enabled .m.scaling.fallback.enabled (or (ne $sm.metricType "AverageValue") (not (regexMatch "^[1-9][0-9]*$" (toString $sm.target)))) }}
models[{{ .i }}].scaling.scalingModifiers: KEDA applies fallback with scalingModifiers only for metricType AverageValue and a whole-number target above 0 (got metricType {{ $sm.metricType }}, target "{{ $sm.target }}"); fix: use metricType AverageValue and an integer target, or disable scaling.fallback.
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "llmaz-serverless.validateValues.uniqueCronNames" -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- $seen := dict -}}
{{- $i := .i -}}
{{- range .m.scaling.cron -}}
{{- if hasKey $seen .name }}
models[{{ $i }}].scaling.cron: two windows are named "{{ .name }}" (got "{{ .name }}" twice); fix: name every window uniquely (names become trigger names).
{{- end -}}
{{- $_ := set $seen .name true -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "llmaz-serverless.validateValues.asyncNeedsWorker" -}}
{{- if not .Values.worker.enabled -}}
{{- range (include "llmaz-serverless.validateValues.allModels" . | fromYamlArray) -}}
{{- if and .m.enabled .m.async.enabled }}
models[{{ .i }}].async.enabled: queued jobs need the worker (got worker.enabled false); fix: set worker.enabled to true, or disable async for this model.
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
worker.enabled: the worker has no queue to read, since no enabled model has async.enabled (got worker.enabled true); fix: set async.enabled on the models served asynchronously, or disable the worker.
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A PDB that allows no disruption blocks every node drain. */}}
{{- define "llmaz-serverless.validateValues.gatewayPdb" -}}
{{- $g := .Values.gateway -}}
{{- if and $g.enabled $g.pdb.enabled (not (kindIs "string" $g.pdb.minAvailable)) (ge (int $g.pdb.minAvailable) (int $g.replicas)) }}
gateway.pdb.minAvailable: leaves no pod that may be evicted (got minAvailable {{ $g.pdb.minAvailable }} with {{ $g.replicas }} replicas); fix: run more gateway replicas than minAvailable.
{{- end -}}
{{- end -}}

{{/* A pod killed before its own shutdown budget ends cuts streams (gateway) or claimed jobs (worker). */}}
{{- define "llmaz-serverless.validateValues.gracePeriods" -}}
{{- $g := .Values.gateway -}}
{{- $delay := int (include "llmaz-serverless.durationSeconds" (dig "shutdownDelay" 5 $g.config)) -}}
{{- $timeout := int (include "llmaz-serverless.durationSeconds" (dig "shutdownTimeout" 120 $g.config)) -}}
{{- if and $g.enabled (le (int $g.terminationGracePeriodSeconds) (add $delay $timeout)) }}
gateway.terminationGracePeriodSeconds: not longer than the gateway's shutdown (got {{ $g.terminationGracePeriodSeconds }}s <= shutdownDelay {{ $delay }}s + shutdownTimeout {{ $timeout }}s); fix: raise terminationGracePeriodSeconds above {{ add $delay $timeout }} or shorten gateway.config.shutdownTimeout.
{{- end -}}
{{- $w := .Values.worker -}}
{{- $drain := int (include "llmaz-serverless.durationSeconds" (dig "drainTimeout" 120 $w.config)) -}}
{{- if and $w.enabled (le (int $w.terminationGracePeriodSeconds) $drain) }}
worker.terminationGracePeriodSeconds: not longer than the worker's drain (got {{ $w.terminationGracePeriodSeconds }}s <= drainTimeout {{ $drain }}s); fix: raise terminationGracePeriodSeconds above {{ $drain }} or shorten worker.config.drainTimeout.
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
eventRules[{{ $i }}].name: "{{ $r.name }}" is also the name of eventRules[{{ get $names $r.name }}] (got "{{ $r.name }}"); fix: give every rule a unique name.
{{- else -}}
{{- $_ := set $names $r.name (toString $i) -}}
{{- end -}}
{{- if and (empty $r.pattern) (not $r.matchAll) }}
eventRules[{{ $i }}].pattern: is empty, so the rule would match every event (got {{ default dict $r.pattern | toJson }}); fix: add a pattern such as type: ["com.example.thing.happened"], or set matchAll: true.
{{- end -}}
{{- if and $r.matchAll (not (empty $r.pattern)) }}
eventRules[{{ $i }}].matchAll: is true but a pattern is set (got matchAll true); fix: drop matchAll or the pattern.
{{- end -}}
{{- range $j, $a := $r.actions -}}
{{- $refs := list -}}
{{- if $a.prewarm }}{{ range $k, $m := $a.prewarm.models }}{{ $refs = append $refs (dict "path" (printf "prewarm.models[%d]" $k) "name" $m) }}{{ end }}{{ end -}}
{{- if $a.submit }}{{ $refs = append $refs (dict "path" "submit.model" "name" $a.submit.model) }}{{ end -}}
{{- range $refs -}}
{{- if not (hasKey $enabled .name) }}
eventRules[{{ $i }}].actions[{{ $j }}].{{ .path }}: {{ ternary "names a disabled model" "names no model of models" (hasKey $all .name) }} (got "{{ .name }}"); fix: use the name of an enabled entry of models ({{ keys $enabled | sortAlpha | join ", " | default "none" }}).
{{- end -}}
{{- end -}}
{{- if and $a.prewarm $.Values.events.enabled (not $.Values.gateway.enabled) }}
eventRules[{{ $i }}].actions[{{ $j }}].prewarm: pre-warm windows are kept by the gateway (got gateway.enabled false); fix: enable the gateway or drop the prewarm action.
{{- end -}}
{{- if and $a.submit (hasKey $enabled $a.submit.model) -}}
{{- if not (get $enabled $a.submit.model).async.enabled }}
eventRules[{{ $i }}].actions[{{ $j }}].submit.model: "{{ $a.submit.model }}" is not served on the async path (got async.enabled false); fix: set async.enabled on that model (and worker.enabled).
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
