{{/*
Cross-field rules a JSON schema cannot state. Each rule is one
`llmaz-serverless.validateValues.<rule>` helper that prints a message (or
nothing); `llmaz-serverless.validateValues` joins them into one `fail`, so a
user sees every problem at once. Called from templates/validate.yaml.
*/}}

{{- define "llmaz-serverless.validateValues" -}}
{{- $messages := list -}}
{{- range $rule := list "uniqueModelNames" -}}
{{- $msg := include (printf "llmaz-serverless.validateValues.%s" $rule) $ | trim -}}
{{- if $msg -}}{{- $messages = append $messages $msg -}}{{- end -}}
{{- end -}}
{{- if $messages -}}
{{- fail (printf "\nVALUES VALIDATION:\n%s" (join "\n" $messages)) -}}
{{- end -}}
{{- end -}}

{{/* Two models with one name would render two objects with one name. */}}
{{- define "llmaz-serverless.validateValues.uniqueModelNames" -}}
{{- $seen := dict -}}
{{- range .Values.models -}}
{{- if hasKey $seen .name -}}
models: name "{{ .name }}" is used twice; fix: give every entry of models a unique name.
{{- end -}}
{{- $_ := set $seen .name true -}}
{{- end -}}
{{- end -}}
