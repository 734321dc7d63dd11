{{/*
The async queue triggers of the ScaledObjects: Redis Streams connection and NATS JetStream.
*/}}

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
The names of the triggers a model's ScaledObject has ({root, model} in, a YAML list out), in
the order templates/models/scaledobject.yaml renders them: http always; waiting and kvcache with
Prometheus on, the signal on and a query (the model's own or its backend's); queue with async on
(and inflight with the Redis broker: NATS counts in-flight jobs in queue); prewarm when an event
rule pre-warms the model; cron_<name> per window, "-" as "_" because the formula language reads
"-" as subtraction. The ScaledObject renders a trigger only when its name is here, and the
scalingModifiers checks of _validate.tpl read the same list, so the two cannot disagree.
*/}}
{{- define "llmaz-serverless.model.triggerNames" -}}
{{- $root := .root -}}
{{- $m := .model -}}
{{- $out := list "http" -}}
{{- if $root.Values.prometheus.enabled -}}
{{- range $signal := list "waiting" "kvCache" -}}
{{- if and (index $m.scaling.prometheus $signal).enabled (include "llmaz-serverless.model.promQuery" (dict "root" $root "model" $m "signal" $signal)) -}}
{{- $out = append $out (lower $signal) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $m.async.enabled -}}
{{- $out = append $out "queue" -}}
{{- if ne $root.Values.worker.broker "nats" }}{{ $out = append $out "inflight" }}{{ end -}}
{{- end -}}
{{- if has $m.name (include "llmaz-serverless.events.prewarmModels" $root | fromYamlArray) }}{{ $out = append $out "prewarm" }}{{ end -}}
{{- range $m.scaling.cron }}{{ $out = append $out (include "llmaz-serverless.cronTriggerName" .) }}{{ end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* A cron window's trigger name: cron_<name>, "-" as "_" (the formula language's minus). */}}
{{- define "llmaz-serverless.cronTriggerName" -}}
{{- printf "cron_%s" (replace "-" "_" (toString .name)) -}}
{{- end -}}
