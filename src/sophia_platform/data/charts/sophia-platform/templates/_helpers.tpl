{{/* Labels shared by every object of one service. Call with (dict "root" $ "name" $name). */}}
{{- define "sophia.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/part-of: {{ .root.Values.global.project }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
sophia.dev/environment: {{ .root.Values.global.environment | quote }}
{{- end -}}

{{/* The immutable selector of one service's pods. */}}
{{- define "sophia.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* The port Prometheus scrapes: a port named "metrics" if declared, else the main port. */}}
{{- define "sophia.metricsPort" -}}
{{- if and .svc.ports (hasKey .svc.ports "metrics") -}}
{{ get .svc.ports "metrics" }}
{{- else -}}
{{ .svc.port }}
{{- end -}}
{{- end -}}

{{/* The image reference of a service. */}}
{{- define "sophia.image" -}}
{{ printf "%s:%s" .svc.image.repository .svc.image.tag }}
{{- end -}}

{{/* The pod template of a Deployment or StatefulSet. */}}
{{- define "sophia.podTemplate" -}}
{{- $svc := .svc -}}
{{- $g := .root.Values.global -}}
metadata:
  labels:
    {{- include "sophia.labels" . | nindent 4 }}
  annotations:
    checksum/config: {{ pick $svc "env" "sharedSecrets" "command" "args" | toJson | sha256sum }}
    {{- /* the same stamp `sophia secrets sync` sets (secrets/stamp.py): no double restart */}}
    sophia.dev/secrets-hash: {{ $svc.secretsHash | default "none" | quote }}
    {{- if and $g.monitoring.scrapeAnnotations $svc.port }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ include "sophia.metricsPort" . | quote }}
    prometheus.io/path: {{ $g.monitoring.path | quote }}
    {{- end }}
spec:
  {{- with $g.imagePullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . }}
    {{- end }}
  {{- end }}
  {{- $gpu := $svc.gpu | default dict }}
  {{- if gt (int ($gpu.count | default 0)) 0 }}
  {{- with $g.gpu.runtimeClassName }}
  runtimeClassName: {{ . }}
  {{- end }}
  {{- with $gpu.type }}
  nodeSelector:
    {{ $g.gpu.nodeLabel }}: {{ . | quote }}
  {{- end }}
  {{- end }}
  {{- if or $g.tolerations (gt (int ($gpu.count | default 0)) 0) }}
  tolerations:
    {{- if gt (int ($gpu.count | default 0)) 0 }}
    - key: {{ $g.gpu.resourceName }}
      operator: Exists
      effect: NoSchedule
    {{- end }}
    {{- with $g.tolerations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  containers:
    - name: {{ .name }}
      image: {{ include "sophia.image" . | quote }}
      imagePullPolicy: IfNotPresent
      {{- with $svc.command }}
      command: {{ toJson . }}
      {{- end }}
      {{- with $svc.args }}
      args: {{ toJson . }}
      {{- end }}
      {{- if or $svc.port $svc.ports }}
      ports:
        {{- with $svc.port }}
        - name: http
          containerPort: {{ . }}
          protocol: TCP
        {{- end }}
        {{- range $pname, $pnum := $svc.ports }}
        - name: {{ $pname }}
          containerPort: {{ $pnum }}
          protocol: TCP
        {{- end }}
      {{- end }}
      {{- $hasSecrets := or ($svc.secret | default dict).name $svc.sharedSecrets }}
      {{- if or $svc.env $hasSecrets }}
      env:
        {{- if $hasSecrets }}
        - name: SOPHIA_SECRETS_DIR
          value: {{ $g.secretMountPath | quote }}
        {{- end }}
        {{- range $k, $v := $svc.env }}
        - name: {{ $k }}
          value: {{ $v | quote }}
        {{- end }}
        {{- range $svc.sharedSecrets }}
        - name: {{ .key }}
          valueFrom:
            secretKeyRef:
              name: {{ .name }}
              key: {{ .key }}
              {{- if .optional }}
              optional: true
              {{- end }}
        {{- end }}
      {{- end }}
      {{- with $svc.secret }}
      envFrom:
        - secretRef:
            name: {{ .name }}
            {{- if .optional }}
            optional: true
            {{- end }}
      {{- end }}
      {{- if and $svc.port $svc.health }}
      readinessProbe:
        httpGet:
          path: {{ $svc.health }}
          port: http
        initialDelaySeconds: {{ $g.probes.initialDelaySeconds }}
        periodSeconds: {{ $g.probes.periodSeconds }}
        failureThreshold: {{ $g.probes.failureThreshold }}
      livenessProbe:
        httpGet:
          path: {{ $svc.health }}
          port: http
        initialDelaySeconds: {{ mul 3 $g.probes.initialDelaySeconds }}
        periodSeconds: {{ $g.probes.periodSeconds }}
        failureThreshold: {{ $g.probes.failureThreshold }}
      {{- else if $svc.port }}
      readinessProbe:
        tcpSocket:
          port: http
        initialDelaySeconds: {{ $g.probes.initialDelaySeconds }}
        periodSeconds: {{ $g.probes.periodSeconds }}
      livenessProbe:
        tcpSocket:
          port: http
        initialDelaySeconds: {{ mul 3 $g.probes.initialDelaySeconds }}
        periodSeconds: {{ $g.probes.periodSeconds }}
      {{- end }}
      {{- $res := $svc.resources | default dict }}
      {{- if or $res (gt (int ($gpu.count | default 0)) 0) }}
      resources:
        {{- with $res.requests }}
        requests:
          {{- toYaml . | nindent 10 }}
        {{- end }}
        {{- if or $res.limits (gt (int ($gpu.count | default 0)) 0) }}
        limits:
          {{- with $res.limits }}
          {{- toYaml . | nindent 10 }}
          {{- end }}
          {{- if gt (int ($gpu.count | default 0)) 0 }}
          {{ $g.gpu.resourceName }}: {{ $gpu.count }}
          {{- end }}
        {{- end }}
      {{- end }}
      {{- if or $hasSecrets $svc.storage }}
      volumeMounts:
        {{- if $hasSecrets }}
        - name: secrets
          mountPath: {{ $g.secretMountPath }}
          readOnly: true
        {{- end }}
        {{- with $svc.storage }}
        - name: data
          mountPath: {{ .mountPath }}
        {{- end }}
      {{- end }}
  {{- if $hasSecrets }}
  volumes:
    - name: secrets
      projected:
        sources:
          {{- with $svc.secret }}
          - secret:
              name: {{ .name }}
              {{- if .optional }}
              optional: true
              {{- end }}
          {{- end }}
          {{- range $svc.sharedSecrets }}
          - secret:
              name: {{ .name }}
              {{- if .optional }}
              optional: true
              {{- end }}
              items:
                - key: {{ .key }}
                  path: {{ .key }}
          {{- end }}
  {{- end }}
{{- end -}}
