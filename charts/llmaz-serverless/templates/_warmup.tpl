{{/*
The warmup controller's webhook: names, TLS, the models it gates.
*/}}

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
