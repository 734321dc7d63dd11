{{/*
The runtime config (runtime.yaml) sections each component reads, assembled from values.
*/}}

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

{{/* Keys of `worker.config` that producer and consumer share: they go to runtime.yaml's
`queue:` section (llmaz_serverless.queue.settings.QueueSettings), the rest to `worker:`. */}}
{{- define "llmaz-serverless.queue.configKeys" -}}
{{- list "keyPrefix" "deadLetterStream" "deadLetterMaxLen" "notifyStream" "claimIdle" "models" "payloads" "results" "objectStore" "notifications" | toYaml -}}
{{- end -}}

{{/* runtime.yaml `queue:`: what the gateway (producer) and the worker (consumer) must agree on,
from the worker's values (users keep setting them under `worker:`). */}}
{{- define "llmaz-serverless.queue.runtimeSection" -}}
{{- $section := dict -}}
{{- range $key := include "llmaz-serverless.queue.configKeys" . | fromYamlArray -}}
{{- if hasKey $.Values.worker.config $key -}}
{{- $_ := set $section $key (get $.Values.worker.config $key) -}}
{{- end -}}
{{- end -}}
{{- $section = deepCopy $section -}}
{{- $_ := set $section "streamPrefix" .Values.worker.streamPrefix -}}
{{- $_ := set $section "consumerGroup" .Values.worker.consumerGroup -}}
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

{{/* runtime.yaml `worker:`: the worker-only part of `worker.config`. */}}
{{- define "llmaz-serverless.worker.runtimeSection" -}}
{{- $section := deepCopy .Values.worker.config -}}
{{- range $key := include "llmaz-serverless.queue.configKeys" . | fromYamlArray -}}
{{- $_ := unset $section $key -}}
{{- end -}}
{{- $_ := set $section "metricsPort" (int .Values.worker.metricsPort) -}}
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
