package main

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

type policyOptions struct {
	// workerGraceSeconds is the Temporal workers' shutdownGraceTime: Kubernetes must wait longer than
	// that before SIGKILL, or in-flight activities are cut off mid-way on every rollout.
	workerGraceSeconds int64
}

// taskQueueLabel marks our Temporal worker pods and names the task queue they poll. (Temporal's own
// "worker" service is not one of ours: it has no such label.)
const taskQueueLabel = "trader.io/task-queue"

// podTemplate is the pod part of any workload kind, with where it sits in the document.
type podTemplate struct {
	doc         *document
	path        string // field path of the pod spec, e.g. "spec.template.spec"
	meta        metav1.ObjectMeta
	spec        *corev1.PodSpec
	longRunning bool // restarted forever (Deployment, StatefulSet, ...), as opposed to a Job's pods
}

func podTemplateOf(d *document) *podTemplate {
	switch o := d.obj.(type) {
	case *corev1.Pod:
		return &podTemplate{d, "spec", o.ObjectMeta, &o.Spec, o.Spec.RestartPolicy != corev1.RestartPolicyNever && o.Spec.RestartPolicy != corev1.RestartPolicyOnFailure}
	case *appsv1.Deployment:
		return &podTemplate{d, "spec.template.spec", o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, true}
	case *appsv1.StatefulSet:
		return &podTemplate{d, "spec.template.spec", o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, true}
	case *appsv1.DaemonSet:
		return &podTemplate{d, "spec.template.spec", o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, true}
	case *appsv1.ReplicaSet:
		return &podTemplate{d, "spec.template.spec", o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, true}
	case *batchv1.Job:
		return &podTemplate{d, "spec.template.spec", o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec, false}
	case *batchv1.CronJob:
		return &podTemplate{d, "spec.jobTemplate.spec.template.spec", o.Spec.JobTemplate.Spec.Template.ObjectMeta, &o.Spec.JobTemplate.Spec.Template.Spec, false}
	}
	return nil
}

func (p *podTemplate) isWorker() bool {
	return p.meta.Labels[taskQueueLabel] != ""
}

func checkPolicy(docs []*document, rep *report, opts policyOptions) {
	var pods []*podTemplate
	for _, d := range docs {
		if d.obj == nil {
			continue
		}
		checkName(d, rep)
		switch o := d.obj.(type) {
		case *corev1.Secret:
			checkSecretObject(d, o, rep)
		case *corev1.ConfigMap:
			checkConfigMap(d, o, rep)
		}
		if p := podTemplateOf(d); p != nil {
			pods = append(pods, p)
			checkPod(p, rep, opts)
		}
	}
	// References are meaningful only over the complete set: with a document that failed to decode, every
	// object pointing at it would be reported too, burying the real error.
	for _, d := range docs {
		if d.obj == nil {
			return
		}
	}
	checkReferences(docs, pods, rep)
}

func checkName(d *document, rep *report) {
	if d.name == "" {
		return
	}
	for _, msg := range validation.IsDNS1123Subdomain(d.name) {
		rep.add(d, "metadata.name", "%s", msg)
	}
}

// --- pods -------------------------------------------------------------------------------------------

func checkPod(p *podTemplate, rep *report, opts policyOptions) {
	d := p.doc
	if p.isWorker() {
		checkWorkerPod(p, rep, opts)
	}
	if p.spec.SecurityContext != nil && p.spec.SecurityContext.RunAsUser != nil && *p.spec.SecurityContext.RunAsUser == 0 {
		rep.add(d, p.path+".securityContext.runAsUser", "0 runs as root; use a non-zero uid")
	}
	if p.spec.HostNetwork || p.spec.HostPID || p.spec.HostIPC {
		rep.add(d, p.path, "hostNetwork/hostPID/hostIPC are not allowed for application pods")
	}
	type entry struct {
		field string
		c     *corev1.Container
		init  bool
	}
	var all []entry
	for i := range p.spec.InitContainers {
		all = append(all, entry{fmt.Sprintf("%s.initContainers[%d]", p.path, i), &p.spec.InitContainers[i], true})
	}
	for i := range p.spec.Containers {
		all = append(all, entry{fmt.Sprintf("%s.containers[%d]", p.path, i), &p.spec.Containers[i], false})
	}
	for _, e := range all {
		field := fmt.Sprintf("%s(%s)", e.field, e.c.Name)
		checkImage(d, field, e.c.Image, rep)
		checkResources(d, field, e.c.Resources, rep)
		checkSecurity(d, field, p.spec.SecurityContext, e.c.SecurityContext, rep)
		checkEnv(d, field, e.c, rep)
		// init containers run to completion, so probes make no sense for them; neither do Job pods.
		if p.longRunning && !e.init {
			checkProbes(d, field, e.c, rep)
		}
	}
}

var digestRe = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

func checkImage(d *document, field, image string, rep *report) {
	if image == "" {
		rep.add(d, field+".image", "required")
		return
	}
	if digestRe.MatchString(image) {
		return
	}
	// the tag is what follows the last ':' after the last '/', so a registry port is not a tag
	last := image[strings.LastIndex(image, "/")+1:]
	i := strings.LastIndex(last, ":")
	if i < 0 {
		rep.add(d, field+".image", "%q has no tag; pin a version (an untagged image means :latest)", image)
		return
	}
	if tag := last[i+1:]; tag == "latest" || tag == "" {
		rep.add(d, field+".image", "%q uses the 'latest' tag; pin a version so rollouts are reproducible", image)
	}
}

func checkResources(d *document, field string, r corev1.ResourceRequirements, rep *report) {
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := r.Requests[name]
		lim, hasLim := r.Limits[name]
		if !hasReq {
			rep.add(d, fmt.Sprintf("%s.resources.requests.%s", field, name), "required (the scheduler needs it to place the pod)")
		}
		if !hasLim {
			rep.add(d, fmt.Sprintf("%s.resources.limits.%s", field, name), "required (one runaway process must not starve its node)")
		}
		if hasReq && hasLim && req.Cmp(lim) > 0 {
			rep.add(d, fmt.Sprintf("%s.resources.requests.%s", field, name), "%s exceeds the limit %s", req.String(), lim.String())
		}
	}
	// Extended resources such as nvidia.com/gpu cannot be overcommitted: Kubernetes requires the request,
	// if given, to equal the limit, and the limit is what the device plugin allocates.
	for name, req := range r.Requests {
		if strings.Contains(string(name), "/") {
			lim, ok := r.Limits[name]
			if !ok || lim.Cmp(req) != 0 {
				rep.add(d, fmt.Sprintf("%s.resources.limits.%s", field, name), "an extended resource needs a limit equal to its request (%s)", req.String())
			}
		}
	}
}

func checkSecurity(d *document, field string, pod *corev1.PodSecurityContext, c *corev1.SecurityContext, rep *report) {
	nonRoot := pod != nil && pod.RunAsNonRoot != nil && *pod.RunAsNonRoot
	if c != nil && c.RunAsNonRoot != nil {
		nonRoot = *c.RunAsNonRoot
	}
	if !nonRoot {
		rep.add(d, field+".securityContext.runAsNonRoot", "must be true (set it on the container or the pod)")
	}
	if c != nil && c.RunAsUser != nil && *c.RunAsUser == 0 {
		rep.add(d, field+".securityContext.runAsUser", "0 runs as root; use a non-zero uid")
	}
	if c == nil || c.AllowPrivilegeEscalation == nil || *c.AllowPrivilegeEscalation {
		rep.add(d, field+".securityContext.allowPrivilegeEscalation", "must be false")
	}
	if c != nil && c.Privileged != nil && *c.Privileged {
		rep.add(d, field+".securityContext.privileged", "privileged containers are not allowed")
	}
	// The rest of the "restricted" Pod Security Standard, which our namespaces enforce at admission:
	// better to fail here than as a rejected pod during a rollout.
	dropsAll := false
	if c != nil && c.Capabilities != nil {
		for _, capability := range c.Capabilities.Drop {
			if capability == "ALL" {
				dropsAll = true
			}
		}
		for _, capability := range c.Capabilities.Add {
			if capability != "NET_BIND_SERVICE" {
				rep.add(d, field+".securityContext.capabilities.add", "%s is not allowed (only NET_BIND_SERVICE)", capability)
			}
		}
	}
	if !dropsAll {
		rep.add(d, field+".securityContext.capabilities.drop", "must include ALL")
	}
	seccomp := pod != nil && pod.SeccompProfile != nil && pod.SeccompProfile.Type != corev1.SeccompProfileTypeUnconfined
	if c != nil && c.SeccompProfile != nil {
		seccomp = c.SeccompProfile.Type != corev1.SeccompProfileTypeUnconfined
	}
	if !seccomp {
		rep.add(d, field+".securityContext.seccompProfile", "set type RuntimeDefault (on the pod or the container)")
	}
}

// secretName matches environment and ConfigMap keys whose values are credentials. DATABASE_URL and
// REDIS_URL carry passwords in production, so they count as secrets too.
var secretName = regexp.MustCompile(`(?i)(PASSWORD|PASSWD|_PWD$|SECRET|TOKEN|API_KEY|APIKEY|KEY_ID|PRIVATE_KEY|CREDENTIAL|ENCRYPTION_KEY|^DATABASE_URL$|^REDIS_URL$)`)

// urlWithPassword matches scheme://user:password@host, a credential wherever it appears.
var urlWithPassword = regexp.MustCompile(`[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`)

func checkEnv(d *document, field string, c *corev1.Container, rep *report) {
	for i, e := range c.Env {
		f := fmt.Sprintf("%s.env[%d](%s)", field, i, e.Name)
		if e.Value != "" && secretName.MatchString(e.Name) {
			rep.add(d, f, "a credential must not be written inline; use valueFrom.secretKeyRef or envFrom.secretRef")
		} else if urlWithPassword.MatchString(e.Value) {
			rep.add(d, f, "the value contains a URL with a password; move it into a Secret")
		}
	}
}

func checkProbes(d *document, field string, c *corev1.Container, rep *report) {
	if c.ReadinessProbe == nil {
		rep.add(d, field+".readinessProbe", "required, so traffic and rollouts wait for a ready process")
	}
	if c.LivenessProbe == nil {
		rep.add(d, field+".livenessProbe", "required, so a hung process is restarted")
	}
	for name, probe := range map[string]*corev1.Probe{"readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe, "startupProbe": c.StartupProbe} {
		if probe == nil {
			continue
		}
		var port *intstr.IntOrString
		switch {
		case probe.HTTPGet != nil:
			port = &probe.HTTPGet.Port
		case probe.TCPSocket != nil:
			port = &probe.TCPSocket.Port
		case probe.GRPC != nil:
			p := intstr.FromInt32(probe.GRPC.Port)
			port = &p
		case probe.Exec != nil:
			if len(probe.Exec.Command) == 0 {
				rep.add(d, field+"."+name+".exec.command", "required")
			}
		default:
			rep.add(d, field+"."+name, "needs one of httpGet, tcpSocket, grpc or exec")
		}
		if port != nil && !containerHasPort(c, *port) {
			rep.add(d, field+"."+name, "port %s is not among the container's ports (%s)", port.String(), describePorts(c))
		}
	}
}

func containerHasPort(c *corev1.Container, port intstr.IntOrString) bool {
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return true
		}
	}
	return false
}

func describePorts(c *corev1.Container) string {
	if len(c.Ports) == 0 {
		return "none declared"
	}
	var s []string
	for _, p := range c.Ports {
		if p.Name != "" {
			s = append(s, fmt.Sprintf("%s=%d", p.Name, p.ContainerPort))
		} else {
			s = append(s, strconv.Itoa(int(p.ContainerPort)))
		}
	}
	return strings.Join(s, ", ")
}

// checkWorkerPod applies what a Temporal worker needs beyond any pod: a grace period longer than its
// shutdownGraceTime and a Prometheus scrape target that exists.
func checkWorkerPod(p *podTemplate, rep *report, opts policyOptions) {
	d := p.doc
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if p.spec.TerminationGracePeriodSeconds != nil {
		grace = *p.spec.TerminationGracePeriodSeconds
	}
	if grace <= opts.workerGraceSeconds {
		rep.add(d, p.path+".terminationGracePeriodSeconds", "%d s must exceed the worker shutdownGraceTime (%d s), or in-flight activities are killed on every rollout", grace, opts.workerGraceSeconds)
	}
	ann := p.meta.Annotations
	annPath := strings.TrimSuffix(p.path, ".spec") + ".metadata.annotations"
	if ann["prometheus.io/scrape"] != "true" {
		rep.add(d, annPath+"[prometheus.io/scrape]", "must be \"true\" on worker pods (got %q)", ann["prometheus.io/scrape"])
	}
	if ann["prometheus.io/path"] == "" {
		rep.add(d, annPath+"[prometheus.io/path]", "required on worker pods (e.g. /metrics)")
	}
	port, err := strconv.Atoi(ann["prometheus.io/port"])
	if err != nil {
		rep.add(d, annPath+"[prometheus.io/port]", "must be a port number (got %q)", ann["prometheus.io/port"])
		return
	}
	for i := range p.spec.Containers {
		if containerHasPort(&p.spec.Containers[i], intstr.FromInt(port)) {
			return
		}
	}
	rep.add(d, annPath+"[prometheus.io/port]", "%d is not a port of any container", port)
}

// --- plain objects ----------------------------------------------------------------------------------

func checkSecretObject(d *document, s *corev1.Secret, rep *report) {
	if len(s.Data) > 0 || len(s.StringData) > 0 {
		var keys []string
		for k := range s.Data {
			keys = append(keys, k)
		}
		for k := range s.StringData {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		rep.add(d, "data", "a Secret with values (%s) must not live in the manifests; create it out of band (kubectl create secret, External Secrets, Sealed Secrets)", strings.Join(keys, ", "))
	}
}

func checkConfigMap(d *document, cm *corev1.ConfigMap, rep *report) {
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := cm.Data[k]
		// Only keys that look like environment variables become env through envFrom; file-like keys
		// (config.yaml) may legitimately mention the words.
		if isEnvName(k) && secretName.MatchString(k) && v != "" {
			rep.add(d, "data."+k, "a credential does not belong in a ConfigMap; put it in a Secret")
		} else if urlWithPassword.MatchString(v) {
			rep.add(d, "data."+k, "contains a URL with a password; put it in a Secret")
		}
	}
}

var envNameRe = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

func isEnvName(s string) bool { return envNameRe.MatchString(s) }

// --- references between objects ---------------------------------------------------------------------

type objectKey struct{ kind, ns, name string }

func keyOf(d *document) objectKey { return objectKey{d.gvk.Kind, d.ns, d.name} }

func checkReferences(docs []*document, pods []*podTemplate, rep *report) {
	present := map[objectKey]*document{}
	for _, d := range docs {
		if d.obj != nil {
			present[keyOf(d)] = d
		}
	}
	has := func(kind, ns, name string) bool { _, ok := present[objectKey{kind, ns, name}]; return ok }

	for _, p := range pods {
		d := p.doc
		if sa := p.spec.ServiceAccountName; sa != "" && sa != "default" && !has("ServiceAccount", d.ns, sa) {
			rep.add(d, p.path+".serviceAccountName", "ServiceAccount %q is not defined in these manifests", sa)
		}
		for _, c := range append(append([]corev1.Container{}, p.spec.InitContainers...), p.spec.Containers...) {
			field := fmt.Sprintf("%s.containers(%s)", p.path, c.Name)
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef != nil && !isOptional(ef.ConfigMapRef.Optional) && !has("ConfigMap", d.ns, ef.ConfigMapRef.Name) {
					rep.add(d, field+".envFrom.configMapRef", "ConfigMap %q is not defined in these manifests", ef.ConfigMapRef.Name)
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil && !isOptional(e.ValueFrom.ConfigMapKeyRef.Optional) {
					ref := e.ValueFrom.ConfigMapKeyRef
					cmDoc, ok := present[objectKey{"ConfigMap", d.ns, ref.Name}]
					if !ok {
						rep.add(d, field+".env("+e.Name+").valueFrom.configMapKeyRef", "ConfigMap %q is not defined in these manifests", ref.Name)
					} else if cm := cmDoc.obj.(*corev1.ConfigMap); cm.Data[ref.Key] == "" {
						if _, inData := cm.Data[ref.Key]; !inData {
							rep.add(d, field+".env("+e.Name+").valueFrom.configMapKeyRef", "ConfigMap %q has no key %q", ref.Name, ref.Key)
						}
					}
				}
			}
		}
		for _, v := range p.spec.Volumes {
			if v.ConfigMap != nil && !isOptional(v.ConfigMap.Optional) && !has("ConfigMap", d.ns, v.ConfigMap.Name) {
				rep.add(d, p.path+".volumes("+v.Name+").configMap", "ConfigMap %q is not defined in these manifests", v.ConfigMap.Name)
			}
		}
	}

	// Deployment-like selectors must select their own template, or the API server rejects the object.
	for _, d := range docs {
		var sel *metav1.LabelSelector
		var tmpl map[string]string
		switch o := d.obj.(type) {
		case *appsv1.Deployment:
			sel, tmpl = o.Spec.Selector, o.Spec.Template.Labels
		case *appsv1.StatefulSet:
			sel, tmpl = o.Spec.Selector, o.Spec.Template.Labels
		case *appsv1.DaemonSet:
			sel, tmpl = o.Spec.Selector, o.Spec.Template.Labels
		default:
			continue
		}
		if !selects(sel, tmpl) {
			rep.add(d, "spec.selector", "does not match the pod template's labels %v", tmpl)
		}
	}

	// Every PodDisruptionBudget, Service and HorizontalPodAutoscaler must point at something real, and
	// every worker workload must be protected by a PodDisruptionBudget.
	protected := map[*podTemplate]bool{}
	for _, d := range docs {
		switch o := d.obj.(type) {
		case *policyv1.PodDisruptionBudget:
			n := 0
			for _, p := range pods {
				if p.doc.ns == d.ns && p.longRunning && selects(o.Spec.Selector, p.meta.Labels) {
					protected[p] = true
					n++
				}
			}
			if n == 0 {
				rep.add(d, "spec.selector", "selects no workload in these manifests")
			}
		case *corev1.Service:
			if len(o.Spec.Selector) == 0 {
				continue
			}
			var matched []*podTemplate
			for _, p := range pods {
				if p.doc.ns == d.ns && labels.SelectorFromSet(o.Spec.Selector).Matches(labels.Set(p.meta.Labels)) {
					matched = append(matched, p)
				}
			}
			if len(matched) == 0 {
				rep.add(d, "spec.selector", "%v selects no pod template in these manifests", o.Spec.Selector)
				continue
			}
			for i, sp := range o.Spec.Ports {
				if sp.TargetPort.Type != intstr.String {
					continue
				}
				for _, p := range matched {
					found := false
					for ci := range p.spec.Containers {
						if containerHasPort(&p.spec.Containers[ci], sp.TargetPort) {
							found = true
						}
					}
					if !found {
						rep.add(d, fmt.Sprintf("spec.ports[%d].targetPort", i), "named port %q does not exist in %s", sp.TargetPort.StrVal, p.doc.where())
					}
				}
			}
		case *autoscalingv2.HorizontalPodAutoscaler:
			ref := o.Spec.ScaleTargetRef
			target, ok := present[objectKey{ref.Kind, d.ns, ref.Name}]
			if !ok {
				rep.add(d, "spec.scaleTargetRef", "%s %q is not defined in these manifests", ref.Kind, ref.Name)
			} else if dep, isDeployment := target.obj.(*appsv1.Deployment); isDeployment && dep.Spec.Replicas != nil {
				// every `kubectl apply` would reset the replica count the autoscaler chose
				rep.add(target, "spec.replicas", "must be left out: HorizontalPodAutoscaler/%s manages it", d.name)
			}
			if o.Spec.MinReplicas != nil && *o.Spec.MinReplicas > o.Spec.MaxReplicas {
				rep.add(d, "spec.minReplicas", "%d exceeds maxReplicas %d", *o.Spec.MinReplicas, o.Spec.MaxReplicas)
			}
			if len(o.Spec.Metrics) == 0 {
				rep.add(d, "spec.metrics", "required: say what the autoscaler scales on")
			}
		}
	}
	for _, p := range pods {
		if p.isWorker() && p.longRunning && !protected[p] {
			rep.add(p.doc, "", "worker workload has no PodDisruptionBudget selecting its pods")
		}
	}
}

func selects(sel *metav1.LabelSelector, set map[string]string) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return false
	}
	return s.Matches(labels.Set(set))
}

func isOptional(b *bool) bool { return b != nil && *b }
