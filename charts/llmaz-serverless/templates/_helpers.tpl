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

{{- define "llmaz-serverless.interceptorURL" -}}
{{- printf "http://%s.%s:%d" .Values.httpAddon.interceptor.service .Values.httpAddon.namespace (int .Values.httpAddon.interceptor.port) -}}
{{- end -}}

{{- define "llmaz-serverless.externalScalerAddress" -}}
{{- printf "%s.%s:%d" .Values.httpAddon.externalScaler.service .Values.httpAddon.namespace (int .Values.httpAddon.externalScaler.port) -}}
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

{{- define "llmaz-serverless.model.stream" -}}
{{- default (printf "llmaz-serverless:%s:%s:jobs" .root.Release.Name .model.name) .model.async.stream -}}
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
