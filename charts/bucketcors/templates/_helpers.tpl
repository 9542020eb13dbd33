{{/* Chart name, overridable. */}}
{{- define "bucketcors.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified name: the release name alone when it already contains the
chart name, so `helm install bucketcors` gives `bucketcors`, not
`bucketcors-bucketcors`. Truncated to 63 characters (DNS label limit).
*/}}
{{- define "bucketcors.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "bucketcors.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the operator pods; never change between upgrades. */}}
{{- define "bucketcors.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bucketcors.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "bucketcors.labels" -}}
helm.sh/chart: {{ include "bucketcors.chart" . }}
{{ include "bucketcors.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: bucketcors
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "bucketcors.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "bucketcors.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "bucketcors.leaseName" -}}
{{- default (printf "%s-leader" (include "bucketcors.fullname" .)) .Values.operator.leaderElection.leaseName | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The image reference: a digest pins it and wins over the tag. */}}
{{- define "bucketcors.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Environment for one default-credentials Secret: $prefix is AWS or
ALIBABA_CLOUD, so the operator reads the same variables the CLI does.
*/}}
{{- define "bucketcors.credentialsEnv" -}}
{{- $c := .creds }}
{{- if $c.existingSecret }}
- name: {{ .idVar }}
  valueFrom:
    secretKeyRef:
      name: {{ $c.existingSecret }}
      key: {{ $c.accessKeyIdKey }}
- name: {{ .secretVar }}
  valueFrom:
    secretKeyRef:
      name: {{ $c.existingSecret }}
      key: {{ $c.secretAccessKeyKey }}
{{- if $c.sessionTokenKey }}
- name: {{ .tokenVar }}
  valueFrom:
    secretKeyRef:
      name: {{ $c.existingSecret }}
      key: {{ $c.sessionTokenKey }}
{{- end }}
{{- end }}
{{- end }}
