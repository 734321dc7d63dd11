{{/*
What every pod and container of the chart shares: security, annotations, the runtime volume.
*/}}

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
