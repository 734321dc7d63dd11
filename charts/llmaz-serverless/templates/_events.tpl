{{/*
Event rules (docs/design/event-rules.md). Rules name models by their
`models[].name`; at runtime the gateway knows models by the OpenAI id it
routes on (`servedName`), so the runtime section carries served names.
*/}}

{{/* Enabled model name -> served name. */}}
{{- define "llmaz-serverless.events.servedNames" -}}
{{- $out := dict -}}
{{- range $m := include "llmaz-serverless.models" . | fromYamlArray -}}
{{- $_ := set $out $m.name (include "llmaz-serverless.model.servedName" (dict "root" $ "model" $m)) -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
The `events:` section of runtime.yaml: `events.config`, `enabled`, and the
rules with model names turned into served names.
*/}}
{{- define "llmaz-serverless.events.runtimeSection" -}}
{{- $section := deepCopy (default dict .Values.events.config) -}}
{{- $_ := set $section "enabled" .Values.events.enabled -}}
{{- $served := include "llmaz-serverless.events.servedNames" . | fromYaml -}}
{{- $rules := list -}}
{{- range $r := .Values.eventRules -}}
{{- $rule := deepCopy $r -}}
{{- range $a := $rule.actions -}}
{{- if $a.prewarm -}}
{{- $models := list -}}
{{- range $a.prewarm.models -}}
{{- $models = append $models (get $served . | default .) -}}
{{- end -}}
{{- $_ := set $a.prewarm "models" $models -}}
{{- end -}}
{{- if $a.submit -}}
{{- $_ := set $a.submit "model" (get $served $a.submit.model | default $a.submit.model) -}}
{{- end -}}
{{- end -}}
{{- $rules = append $rules $rule -}}
{{- end -}}
{{- $_ := set $section "rules" $rules -}}
{{- toYaml $section -}}
{{- end -}}

{{/*
`models[].name`s that an enabled rule's prewarm action names: their
ScaledObject gets the `prewarm` metrics-api trigger. Empty when events are off.
*/}}
{{- define "llmaz-serverless.events.prewarmModels" -}}
{{- $out := list -}}
{{- if .Values.events.enabled -}}
{{- range $r := .Values.eventRules -}}
{{- if or (not (hasKey $r "enabled")) $r.enabled -}}
{{- range $a := $r.actions -}}
{{- if $a.prewarm -}}
{{- range $a.prewarm.models -}}
{{- $out = append $out . -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml (uniq $out) -}}
{{- end -}}

{{/* (dict "root" $ "model" $m) -> the gateway URL KEDA reads the model's pre-warm floor from. */}}
{{- define "llmaz-serverless.events.prewarmURL" -}}
{{- printf "%s/v1/prewarm/%s" (include "llmaz-serverless.gatewayURL" .root) (include "llmaz-serverless.model.servedName" .) -}}
{{- end -}}
