{{/*
Names, labels, the image and where runtime.yaml lives. Every object name and label
set comes from here, so that length limits and selectors are decided in one place.
The chart's helpers are split by concern: _names, _addresses, _models, _triggers,
_runtime, _pods, _warmup (and _events, _validate).
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
