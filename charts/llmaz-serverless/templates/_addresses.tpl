{{/*
In-cluster addresses: the add-on's interceptor and scaler, the gateway, Redis; every
Service name fully qualified with clusterDomain.
*/}}

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
