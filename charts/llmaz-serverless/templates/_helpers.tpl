{{/*
Names and labels. Every object name and label set comes from here, so that
length limits and selectors are decided in one place.
*/}}

{{/*
llmaz-serverless.trimName: (list NAME MAX) -> NAME if it fits, else its first
MAX-9 characters, "-" and 8 hex digits of its sha256. Truncating alone could
make two long names equal; the hash keeps them apart.
*/}}
{{- define "llmaz-serverless.trimName" -}}
{{- $name := index . 0 -}}
{{- $max := int (index . 1) -}}
{{- if le (len $name) $max -}}
{{- $name -}}
{{- else -}}
{{- printf "%s-%s" (trunc (int (sub $max 9)) $name | trimSuffix "-") (sha256sum $name | trunc 8) -}}
{{- end -}}
{{- end -}}

{{- define "llmaz-serverless.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/*
Base name of the shared objects. Kept to 40 characters so that
`<fullname>-<component>[-suffix]` fits every limit without trimming again.
*/}}
{{- define "llmaz-serverless.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- include "llmaz-serverless.trimName" (list .Values.fullnameOverride 40) -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- include "llmaz-serverless.trimName" (list .Release.Name 40) -}}
{{- else -}}
{{- include "llmaz-serverless.trimName" (list (printf "%s-%s" .Release.Name $name) 40) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* (dict "root" $ "component" "gateway") -> "<fullname>-gateway" */}}
{{- define "llmaz-serverless.componentName" -}}
{{- printf "%s-%s" (include "llmaz-serverless.fullname" .root) .component -}}
{{- end -}}

{{- define "llmaz-serverless.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels. Selectors are immutable on Deployments: never add a label
here that can change between releases (no versions, no values).
*/}}
{{- define "llmaz-serverless.selectorLabels" -}}
app.kubernetes.io/name: {{ include "llmaz-serverless.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "llmaz-serverless.labels" -}}
helm.sh/chart: {{ include "llmaz-serverless.chart" . }}
{{ include "llmaz-serverless.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: llmaz-serverless
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* (dict "root" $ "component" "gateway") */}}
{{- define "llmaz-serverless.componentSelectorLabels" -}}
{{ include "llmaz-serverless.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "llmaz-serverless.componentLabels" -}}
{{ include "llmaz-serverless.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Image reference shared by every Python component. */}}
{{- define "llmaz-serverless.image" -}}
{{- $img := .Values.image -}}
{{- $repo := $img.repository -}}
{{- if $img.registry }}{{ $repo = printf "%s/%s" $img.registry $img.repository }}{{ end -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* (dict "root" $ "component" "gateway") -> ServiceAccount name of the component */}}
{{- define "llmaz-serverless.serviceAccountName" -}}
{{- $sa := (index .root.Values .component).serviceAccount -}}
{{- if $sa.create -}}
{{- default (include "llmaz-serverless.componentName" .) $sa.name -}}
{{- else -}}
{{- default "default" $sa.name -}}
{{- end -}}
{{- end -}}

{{- define "llmaz-serverless.runtimeConfigName" -}}
{{- include "llmaz-serverless.componentName" (dict "root" . "component" "runtime") -}}
{{- end -}}

{{/* Where every process reads runtime.yaml. */}}
{{- define "llmaz-serverless.runtimeConfigPath" -}}
/etc/llmaz-serverless/runtime.yaml
{{- end -}}

{{/* The pod condition the warmup controller sets once a model pod is warm. */}}
{{- define "llmaz-serverless.readinessGate" -}}
serving.llmaz-serverless.io/warmed
{{- end -}}

{{/*
Namespace of KEDA and the HTTP add-on ("" or unset means this release's, as in
the stack chart, which installs them beside us). Every template that names the
add-on's namespace (the interceptor URL, the external scaler address, the
gateway NetworkPolicy's KEDA peer) goes through this one helper.
*/}}
{{- define "llmaz-serverless.httpAddonNamespace" -}}
{{- default .Release.Namespace .Values.httpAddon.namespace -}}
{{- end -}}

{{/*
llmaz-serverless.serviceHost: (dict "root" $ "service" NAME "namespace" NS) ->
the Service's fully qualified in-cluster name `NAME.NS.svc.<clusterDomain>`.
Fully qualified so that resolution never depends on the caller's search
domains (KEDA's operator resolves from its own namespace).
*/}}
{{- define "llmaz-serverless.serviceHost" -}}
{{- printf "%s.%s.svc.%s" .service .namespace .root.Values.clusterDomain -}}
{{- end -}}

{{- define "llmaz-serverless.interceptorURL" -}}
{{- $host := include "llmaz-serverless.serviceHost" (dict "root" . "service" .Values.httpAddon.interceptor.service "namespace" (include "llmaz-serverless.httpAddonNamespace" .)) -}}
{{- printf "http://%s:%d" $host (int .Values.httpAddon.interceptor.port) -}}
{{- end -}}

{{- define "llmaz-serverless.externalScalerAddress" -}}
{{- $host := include "llmaz-serverless.serviceHost" (dict "root" . "service" .Values.httpAddon.externalScaler.service "namespace" (include "llmaz-serverless.httpAddonNamespace" .)) -}}
{{- printf "%s:%d" $host (int .Values.httpAddon.externalScaler.port) -}}
{{- end -}}

{{/* The gateway Service's in-cluster base URL (KEDA's pre-warm trigger, the helm test Pod). */}}
{{- define "llmaz-serverless.gatewayURL" -}}
{{- $svc := include "llmaz-serverless.componentName" (dict "root" . "component" "gateway") -}}
{{- $host := include "llmaz-serverless.serviceHost" (dict "root" . "service" $svc "namespace" .Release.Namespace) -}}
{{- printf "http://%s:%d" $host (int .Values.gateway.service.port) -}}
{{- end -}}

{{/* host:port KEDA's redis-streams triggers use. */}}
{{- define "llmaz-serverless.redisAddress" -}}
{{- if .Values.redis.keda.address -}}
{{- .Values.redis.keda.address -}}
{{- else -}}
{{- $u := urlParse .Values.redis.url -}}
{{- $host := $u.host -}}
{{- if not (regexMatch ":[0-9]+$" $host) }}{{ $host = printf "%s:6379" $host }}{{ end -}}
{{- $host -}}
{{- end -}}
{{- end -}}

{{- define "llmaz-serverless.redisDatabaseIndex" -}}
{{- $u := urlParse .Values.redis.url -}}
{{- $db := trimPrefix "/" $u.path -}}
{{- default "0" $db -}}
{{- end -}}

{{/*
Per-model helpers. Each takes (dict "root" $ "model" $m) where $m is the
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

{{/* Connection metadata of a redis-streams trigger (strings only). */}}
{{- define "llmaz-serverless.redisTriggerConnection" -}}
address: {{ include "llmaz-serverless.redisAddress" . | quote }}
databaseIndex: {{ include "llmaz-serverless.redisDatabaseIndex" . | quote }}
enableTLS: {{ .Values.redis.keda.enableTLS | toString | quote }}
{{- end -}}

{{/*
NATS JetStream (worker.broker: nats). A model's served name as one subject
token, as the worker's queue/nats_jetstream.py subject_token() writes it:
characters other than A-Za-z0-9_- become "_".
*/}}
{{- define "llmaz-serverless.model.natsToken" -}}
{{- regexReplaceAll "[^A-Za-z0-9_-]" (include "llmaz-serverless.model.servedName" .) "_" | default "_" -}}
{{- end -}}

{{/* The durable consumer of a model's jobs: `<worker.nats.consumer>-<token>` (consumer_for()). */}}
{{- define "llmaz-serverless.model.natsConsumer" -}}
{{- printf "%s-%s" .root.Values.worker.nats.consumer (include "llmaz-serverless.model.natsToken" .) -}}
{{- end -}}

{{/* `host:port` of the NATS monitoring endpoint KEDA reads (/jsz). */}}
{{- define "llmaz-serverless.natsMonitoringEndpoint" -}}
{{- $n := .Values.worker.nats -}}
{{- if $n.keda.monitoringEndpoint -}}
{{- $n.keda.monitoringEndpoint -}}
{{- else -}}
{{- printf "%s:8222" (regexReplaceAll ":[0-9]+$" (urlParse $n.url).host "") -}}
{{- end -}}
{{- end -}}

{{/*
A nats-jetstream trigger on a model's consumer: (dict "root" $ "model" $m
"name" TRIGGER "lag" N "activation" N "metricType" T). KEDA's count is the
consumer's num_pending + num_ack_pending: queued and in-flight jobs together.
*/}}
{{- define "llmaz-serverless.natsTrigger" -}}
{{- $n := .root.Values.worker.nats -}}
- type: nats-jetstream
  name: {{ .name }}
  {{- with .metricType }}
  metricType: {{ . }}
  {{- end }}
  {{- with $n.keda.authenticationRef }}
  authenticationRef:
    name: {{ . }}
  {{- end }}
  metadata:
    natsServerMonitoringEndpoint: {{ include "llmaz-serverless.natsMonitoringEndpoint" .root | quote }}
    account: {{ $n.keda.account | quote }}
    stream: {{ $n.stream | quote }}
    consumer: {{ include "llmaz-serverless.model.natsConsumer" . | quote }}
    lagThreshold: {{ .lag | toString | quote }}
    activationLagThreshold: {{ .activation | toString | quote }}
    useHttps: {{ $n.keda.useHttps | toString | quote }}
{{- end -}}

{{/* Stream of a model's async jobs: the worker's `<streamPrefix><servedName>`. */}}
{{- define "llmaz-serverless.model.stream" -}}
{{- printf "%s%s" .root.Values.worker.streamPrefix (include "llmaz-serverless.model.servedName" .) -}}
{{- end -}}

{{/*
Component sections of runtime.yaml: the user's `<component>.config` with
the keys the chart must agree on written from their own values (they win).
*/}}
{{- define "llmaz-serverless.gateway.runtimeSection" -}}
{{- $section := deepCopy .Values.gateway.config -}}
{{- $_ := set $section "port" (int .Values.gateway.port) -}}
{{- if .Values.gateway.auth.existingSecret -}}
{{- $auth := merge (dict "enabled" true "keysFile" (printf "/var/run/llmaz-serverless/api-keys/%s" .Values.gateway.auth.key)) (get $section "auth" | default dict) -}}
{{- $_ := set $auth "enabled" true -}}
{{- $_ := set $auth "keysFile" (printf "/var/run/llmaz-serverless/api-keys/%s" .Values.gateway.auth.key) -}}
{{- $_ := set $section "auth" $auth -}}
{{- end -}}
{{- toYaml $section -}}
{{- end -}}

{{/* The worker's webhook outbox stream: written into runtime.yaml and watched by
the worker's ScaledObject, so both always name the same stream. */}}
{{- define "llmaz-serverless.worker.notifyStream" -}}
{{- default (printf "%snotify" .Values.worker.streamPrefix) (get .Values.worker.config "notifyStream") -}}
{{- end -}}

{{- define "llmaz-serverless.worker.runtimeSection" -}}
{{- $section := deepCopy .Values.worker.config -}}
{{- $_ := set $section "streamPrefix" .Values.worker.streamPrefix -}}
{{- $_ := set $section "consumerGroup" .Values.worker.consumerGroup -}}
{{- $_ := set $section "metricsPort" (int .Values.worker.metricsPort) -}}
{{- $_ := set $section "notifyStream" (include "llmaz-serverless.worker.notifyStream" .) -}}
{{- /* The broker and its NATS names come from their own values: the ScaledObjects' triggers read them too. */ -}}
{{- $_ := set $section "broker" .Values.worker.broker -}}
{{- $_ := set $section "nats" (omit .Values.worker.nats "keda") -}}
{{- /* Only models with async.enabled have a stream KEDA watches (worker/scaledobject.yaml):
the gateway refuses async jobs for any other model instead of queueing them forever. */ -}}
{{- if not (hasKey $section "models") -}}
{{- $served := list -}}
{{- range (include "llmaz-serverless.models" . | fromYamlArray) -}}
{{- if .async.enabled -}}
{{- $served = append $served (include "llmaz-serverless.model.servedName" (dict "root" $ "model" .)) -}}
{{- end -}}
{{- end -}}
{{- with $served -}}
{{- $_ := set $section "models" . -}}
{{- end -}}
{{- end -}}
{{- if .Values.worker.notificationSecrets.existingSecret -}}
{{- $n := deepCopy (get $section "notifications" | default dict) -}}
{{- $_ := set $n "secretsDir" "/var/run/llmaz-serverless/webhook-secrets" -}}
{{- $_ := set $section "notifications" $n -}}
{{- end -}}
{{- toYaml $section -}}
{{- end -}}

{{- define "llmaz-serverless.warmup.runtimeSection" -}}
{{- $section := deepCopy .Values.warmup.config -}}
{{- $_ := set $section "onInstall" .Values.warmup.onInstall -}}
{{- $_ := set $section "metricsPort" (int .Values.warmup.metricsPort) -}}
{{- $_ := set $section "webhook" (dict
  "enabled" .Values.warmup.webhook.enabled
  "port" (int .Values.warmup.webhook.port)
  "certFile" (printf "%s/tls.crt" (include "llmaz-serverless.warmup.certDir" .))
  "keyFile" (printf "%s/tls.key" (include "llmaz-serverless.warmup.certDir" .))) -}}
{{- toYaml $section -}}
{{- end -}}

{{/*
The webhook certificate's mount. Not under /etc/llmaz-serverless, where the
runtime ConfigMap is mounted: a mount inside a read-only ConfigMap volume needs
a mount point the runtime cannot create.
*/}}
{{- define "llmaz-serverless.warmup.certDir" -}}
/var/run/llmaz-serverless/webhook
{{- end -}}

{{/*
Pod-level settings shared by our components: (dict "root" $ "component" "gateway").
Component values win over the top-level defaults.
*/}}
{{- define "llmaz-serverless.podCommon" -}}
{{- $c := index .root.Values .component -}}
serviceAccountName: {{ include "llmaz-serverless.serviceAccountName" . }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with ($c.nodeSelector | default .root.Values.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with ($c.tolerations | default .root.Values.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with ($c.affinity | default .root.Values.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Container settings shared by our components: (dict "root" $ "component" "gateway"). */}}
{{- define "llmaz-serverless.containerCommon" -}}
{{- $c := index .root.Values .component -}}
image: {{ include "llmaz-serverless.image" .root }}
imagePullPolicy: {{ .root.Values.image.pullPolicy }}
securityContext:
  {{- toYaml .root.Values.securityContext | nindent 2 }}
{{- $env := list -}}
{{- if .root.Values.redis.existingSecret -}}
{{- $env = append $env (dict "name" "LLMAZ_SERVERLESS_REDIS_URL" "valueFrom" (dict "secretKeyRef" (dict "name" .root.Values.redis.existingSecret "key" .root.Values.redis.existingSecretKey))) -}}
{{- end -}}
{{- $env = concat $env (list (dict "name" "POD_NAME" "valueFrom" (dict "fieldRef" (dict "fieldPath" "metadata.name"))) (dict "name" "POD_NAMESPACE" "valueFrom" (dict "fieldRef" (dict "fieldPath" "metadata.namespace")))) $c.extraEnv }}
env:
  {{- toYaml $env | nindent 2 }}
{{- with $c.resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Pod annotations: the runtime config's checksum restarts pods when it changes. */}}
{{- define "llmaz-serverless.podAnnotations" -}}
checksum/runtime: {{ include (print .root.Template.BasePath "/runtime/configmap.yaml") .root | sha256sum }}
{{- with (index .root.Values .component).podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "llmaz-serverless.runtimeVolume" -}}
- name: runtime
  configMap:
    name: {{ include "llmaz-serverless.runtimeConfigName" . }}
{{- end -}}

{{- define "llmaz-serverless.runtimeVolumeMount" -}}
- name: runtime
  mountPath: /etc/llmaz-serverless
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "llmaz-serverless.warmup.webhookServiceName" -}}
{{- include "llmaz-serverless.componentName" (dict "root" . "component" "warmup-webhook") -}}
{{- end -}}

{{- define "llmaz-serverless.warmup.tlsSecretName" -}}
{{- include "llmaz-serverless.componentName" (dict "root" . "component" "warmup-tls") -}}
{{- end -}}

{{/* Cluster-scoped, so it carries the namespace like OpenModels. */}}
{{- define "llmaz-serverless.warmup.webhookConfigName" -}}
{{- include "llmaz-serverless.trimName" (list (printf "%s-%s-warmup" (include "llmaz-serverless.fullname" .) .Release.Namespace) 63) -}}
{{- end -}}

{{/* The path kopf serves the readiness-gate mutation on (its handler id). */}}
{{- define "llmaz-serverless.warmup.webhookPath" -}}
/gate-readiness-until-warm
{{- end -}}

{{/* OpenModel names of the models whose pods get the readiness gate. */}}
{{- define "llmaz-serverless.warmup.gatedModels" -}}
{{- $names := list -}}
{{- range (include "llmaz-serverless.models" . | fromYamlArray) -}}
{{- if .warmup.enabled -}}
{{- $names = append $names (include "llmaz-serverless.model.openModelName" (dict "root" $ "model" .)) -}}
{{- end -}}
{{- end -}}
{{- toYaml $names -}}
{{- end -}}

{{- define "llmaz-serverless.warmup.webhookRendered" -}}
{{- if and .Values.warmup.enabled .Values.warmup.webhook.enabled (include "llmaz-serverless.warmup.gatedModels" . | fromYamlArray) -}}
true
{{- end -}}
{{- end -}}

{{/*
The webhook's TLS material when the chart makes it (no cert-manager): a CA and
a serving certificate for the webhook Service's DNS names. The Secret on the
cluster is reused on upgrades (lookup), so certificates do not change on every
release; otherwise it is generated once per render and cached in the render's
values, so the Secret and the caBundle of the webhook configuration agree.
*/}}
{{- define "llmaz-serverless.warmup.webhookTLS" -}}
{{- if not (hasKey .Values "__llmazServerlessWebhookTLS") -}}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (include "llmaz-serverless.warmup.tlsSecretName" .) -}}
{{- $data := dig "data" dict $secret -}}
{{- $tls := dict -}}
{{- if and (index $data "ca.crt") (index $data "tls.crt") (index $data "tls.key") -}}
{{- $tls = dict "ca" (index $data "ca.crt") "crt" (index $data "tls.crt") "key" (index $data "tls.key") -}}
{{- else -}}
{{- $svc := include "llmaz-serverless.warmup.webhookServiceName" . -}}
{{- $ns := .Release.Namespace -}}
{{- $sans := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (include "llmaz-serverless.serviceHost" (dict "root" . "service" $svc "namespace" $ns)) -}}
{{- $ca := genCA (printf "%s-ca" $svc) 3650 -}}
{{- $cert := genSignedCert (printf "%s.%s.svc" $svc $ns) nil $sans 3650 $ca -}}
{{- $tls = dict "ca" ($ca.Cert | b64enc) "crt" ($cert.Cert | b64enc) "key" ($cert.Key | b64enc) -}}
{{- end -}}
{{- $_ := set .Values "__llmazServerlessWebhookTLS" $tls -}}
{{- end -}}
{{- toYaml (get .Values "__llmazServerlessWebhookTLS") -}}
{{- end -}}
