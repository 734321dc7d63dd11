{{/*
Per-model helpers: the merged model list, object names, route, labels, replicas and
the Prometheus queries of its triggers. Each takes (dict "root" $ "model" $m) where $m is the
merged model (see llmaz-serverless.models).
*/}}

{{/*
llmaz-serverless.models -> YAML list of the enabled models, each
modelDefaults deep-merged under the model's own keys (lists replace).
Use: {{ range (include "llmaz-serverless.models" . | fromYamlArray) }}
*/}}
{{- define "llmaz-serverless.models" -}}
{{- $out := list -}}
{{- range $m := .Values.models -}}
{{- $merged := mergeOverwrite (deepCopy $.Values.modelDefaults) (deepCopy $m) -}}
{{- if $merged.enabled -}}
{{- $out = append $out $merged -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
Base name of a model's namespaced objects (Playground, InterceptorRoute,
ScaledObject): `<release>-<model>`, at most 52 characters because llmaz adds
`-lb` to the Playground for its Service and LWS adds pod ordinals, and KEDA
names the HPA `keda-hpa-<scaledobject>`.
*/}}
{{- define "llmaz-serverless.model.baseName" -}}
{{- include "llmaz-serverless.trimName" (list (printf "%s-%s" .root.Release.Name .model.name) 52) -}}
{{- end -}}

{{- define "llmaz-serverless.model.playgroundName" -}}
{{- include "llmaz-serverless.model.baseName" . -}}
{{- end -}}

{{- define "llmaz-serverless.model.routeName" -}}
{{- include "llmaz-serverless.model.baseName" . -}}
{{- end -}}

{{- define "llmaz-serverless.model.scaledObjectName" -}}
{{- include "llmaz-serverless.model.baseName" . -}}
{{- end -}}

{{/* The Service llmaz creates for the Playground. */}}
{{- define "llmaz-serverless.model.serviceName" -}}
{{- printf "%s-lb" (include "llmaz-serverless.model.playgroundName" .) -}}
{{- end -}}

{{/*
OpenModel is cluster-scoped: `<release>-<namespace>-<model>` so that two
releases, or one release name in two namespaces, never collide. 63 max.
*/}}
{{- define "llmaz-serverless.model.openModelName" -}}
{{- include "llmaz-serverless.trimName" (list (printf "%s-%s-%s" .root.Release.Name .root.Release.Namespace .model.name) 63) -}}
{{- end -}}

{{- define "llmaz-serverless.model.servedName" -}}
{{- default .model.name .model.servedName -}}
{{- end -}}

{{- define "llmaz-serverless.model.hosts" -}}
{{- if .model.route.hosts -}}
{{- toYaml .model.route.hosts -}}
{{- else -}}
{{- toYaml (list (include "llmaz-serverless.model.routeName" .)) -}}
{{- end -}}
{{- end -}}

{{- define "llmaz-serverless.model.headerValue" -}}
{{- default (include "llmaz-serverless.model.routeName" .) .model.route.header.value -}}
{{- end -}}

{{- define "llmaz-serverless.model.selectorLabels" -}}
{{ include "llmaz-serverless.selectorLabels" .root }}
app.kubernetes.io/component: model
llmaz-serverless.io/model: {{ .model.name }}
{{- end -}}

{{- define "llmaz-serverless.model.labels" -}}
{{ include "llmaz-serverless.labels" .root }}
app.kubernetes.io/component: model
llmaz-serverless.io/model: {{ .model.name }}
{{- with .model.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
llmaz-serverless.replicas: the replica count of an object KEDA scales
(Playgrounds, the worker Deployment), given (dict "root" $ "apiVersion" ..
"kind" .. "name" .. "initial" N).

- install: `initial` (0 unless pre-warm is asked for). The field is never
  left out, because llmaz (and Deployments) default it to 1: a pod.
- upgrade of an object that exists: the live value, read with `lookup`.
  Sending the value the object already has changes nothing, whoever owns the
  field. Leaving the field out would not be safe: under Helm 4's server-side
  apply a field the `helm` manager still owns (KEDA never had to change it,
  e.g. it stayed 0) is removed when the chart stops sending it, and the API
  server defaults it back to 1; under Helm 3's three-way merge the removal
  from the manifest is a patch to null with the same result.
- upgrade with nothing to look up: an object new in this release (a model
  added) gets `initial`, like an install. `helm template` and
  `--dry-run=client` cannot look up either and render `initial`.
*/}}
{{- define "llmaz-serverless.replicas" -}}
{{- $initial := int .initial -}}
{{- if .root.Release.IsInstall -}}
{{- $initial -}}
{{- else -}}
{{- $live := lookup .apiVersion .kind .root.Release.Namespace .name -}}
{{- $spec := dig "spec" dict $live -}}
{{- if hasKey $spec "replicas" -}}
{{- int $spec.replicas -}}
{{- else -}}
{{- $initial -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
llmaz-serverless.model.durationSeconds: a Go duration string ("90s", "5m",
"1h30m", "250ms") -> whole seconds (rounded up).
*/}}
{{- define "llmaz-serverless.durationSeconds" -}}
{{- if regexMatch "^[0-9]+(\\.[0-9]+)?$" (toString .) -}}
{{- ceil (float64 .) | int -}}
{{- else -}}
{{- $total := 0.0 -}}
{{- range $part := regexFindAll "[0-9]+(\\.[0-9]+)?(ms|s|m|h)" (toString .) -1 -}}
{{- $num := float64 (regexFind "^[0-9]+(\\.[0-9]+)?" $part) -}}
{{- $unit := regexFind "(ms|s|m|h)$" $part -}}
{{- $factor := dict "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0 -}}
{{- $total = addf $total (mulf $num (get $factor $unit)) -}}
{{- end -}}
{{- ceil $total | int -}}
{{- end -}}
{{- end -}}

{{/*
PromQL label matcher of a model's pods, as Prometheus labels them when the
chart's PodMonitor scrapes them (namespace and pod target labels). LWS names
pods `<playground>-<group>` and `<playground>-<group>-<worker>`.
*/}}
{{- define "llmaz-serverless.model.promSelector" -}}
{{- printf "namespace=\"%s\",pod=~\"%s-[0-9]+(-[0-9]+)?\"" .root.Release.Namespace (include "llmaz-serverless.model.playgroundName" .) -}}
{{- end -}}

{{/*
llmaz-serverless.model.promQuery: (dict "root" $ "model" $m "signal" "waiting"|"kvCache")
-> the PromQL of that signal for the model's backend, or "" when the backend
exports no such metric. Each query ends in `or vector(0)`: a model at zero
has no pods and no series, and an empty result must read as 0 (not active,
not an error that would count toward `fallback`).
*/}}
{{- define "llmaz-serverless.model.promQuery" -}}
{{- $cfg := index .model.scaling.prometheus .signal -}}
{{- $sel := include "llmaz-serverless.model.promSelector" . -}}
{{- $q := "" -}}
{{- if $cfg.query -}}
{{- $q = $cfg.query -}}
{{- else -}}
{{- $metrics := dict
  "waiting" (dict "vllm" "vllm:num_requests_waiting{{selector}}" "sglang" "sglang:num_queue_reqs{{selector}}" "tgi" "tgi_queue_size{{selector}}" "llamacpp" "llamacpp:requests_deferred{{selector}}")
  "kvCache" (dict "vllm" "vllm:kv_cache_usage_perc{{selector}} or vllm:gpu_cache_usage_perc{{selector}}" "sglang" "sglang:token_usage{{selector}}" "llamacpp" "llamacpp:kv_cache_usage_ratio{{selector}}") -}}
{{- $m := get (get $metrics .signal) .model.backend.name -}}
{{- if $m -}}
{{- $q = printf "sum(%s) or vector(0)" $m -}}
{{- end -}}
{{- end -}}
{{- replace "{{selector}}" (printf "{%s}" $sel) $q -}}
{{- end -}}

{{/*
Replicas a new Playground is created with: the pre-warm count when asked for,
else what KEDA would settle on with no activity (idleReplicaCount if set, else
minReplicaCount: 0 for a serverless model, the floor of an always-on one).
*/}}
{{- define "llmaz-serverless.model.initialReplicas" -}}
{{- $s := .model.scaling -}}
{{- if .model.prewarm.onInstall -}}
{{- int .model.prewarm.replicas -}}
{{- else if not (kindIs "invalid" $s.idleReplicaCount) -}}
{{- int $s.idleReplicaCount -}}
{{- else -}}
{{- int $s.minReplicaCount -}}
{{- end -}}
{{- end -}}

{{/* The placeholder body: the user's, or an OpenAI-format error naming the model. */}}
{{- define "llmaz-serverless.model.placeholderBody" -}}
{{- if .model.coldStart.placeholder.body -}}
{{- .model.coldStart.placeholder.body -}}
{{- else -}}
{{- $served := include "llmaz-serverless.model.servedName" . -}}
{{- dict "error" (dict "message" (printf "The model '%s' is starting from zero; retry in %d seconds." $served (int .model.retryAfter)) "type" "server_error" "param" nil "code" "model_cold_start") | toJson -}}
{{- end -}}
{{- end -}}
