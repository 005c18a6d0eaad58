// Command k8s-validate checks Kubernetes manifests offline: every YAML document is decoded strictly into
// the typed k8s.io/api objects (unknown fields, wrong types, duplicate keys and unknown kinds fail), then
// the project's deployment policy is applied (resources, probes, image tags, secrets, non-root, worker
// grace period and scrape annotations, cross-references between objects).
//
// It exists because this project's machines reach no schema registry: kubeconform's default schema
// download from GitHub is impossible here, while the Go types in k8s.io/api are the schema the API server
// itself uses.
//
// Usage:
//
//	k8s-validate [-o json] [-worker-grace 20] [-name LABEL] FILE...   (FILE "-" reads stdin)
//
// Every problem is printed as "<file>: document <n> (<Kind>/<name>): <field>: <problem>". Exit status 0
// means valid, 1 means problems were found, 2 means the input could not be read.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"sigs.k8s.io/yaml"
)

// document is one decoded YAML document with where it came from.
type document struct {
	file  string
	line  int // 1-based line where the document starts in the file
	index int // 1-based position among the file's non-empty documents
	gvk   schema.GroupVersionKind
	name  string
	ns    string
	obj   runtime.Object
	raw   map[string]any
}

func (d *document) where() string {
	name := d.name
	if name == "" {
		name = "<unnamed>"
	}
	kind := d.gvk.Kind
	if kind == "" {
		kind = "<no kind>"
	}
	return fmt.Sprintf("%s:%d: document %d (%s/%s)", d.file, d.line, d.index, kind, name)
}

// problem is one finding, already located.
type problem struct {
	where string
	field string
	msg   string
}

// String renders the problem on one line, so each output line is one finding.
func (p problem) String() string {
	msg := strings.Join(strings.Fields(p.msg), " ")
	if p.field == "" {
		return fmt.Sprintf("%s: %s", p.where, msg)
	}
	return fmt.Sprintf("%s: %s: %s", p.where, p.field, msg)
}

type report struct{ problems []problem }

func (r *report) add(d *document, field, format string, args ...any) {
	r.problems = append(r.problems, problem{where: d.where(), field: field, msg: fmt.Sprintf(format, args...)})
}

func main() {
	output := flag.String("o", "", `"json": print the decoded documents as a JSON array on stdout`)
	workerGrace := flag.Int("worker-grace", 20, "the workers' shutdownGraceTime in seconds; terminationGracePeriodSeconds must exceed it")
	label := flag.String("name", "", "name to print instead of \"-\" when reading stdin")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: k8s-validate [-o json] [-worker-grace SECONDS] [-name LABEL] FILE... (FILE - reads stdin)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *output != "" && *output != "json" {
		fmt.Fprintf(os.Stderr, "-o: unknown output %q (only \"json\")\n", *output)
		os.Exit(2)
	}

	rep := &report{}
	var docs []*document
	for _, path := range flag.Args() {
		var (
			data []byte
			err  error
			name = path
		)
		if path == "-" {
			data, err = io.ReadAll(os.Stdin)
			if *label != "" {
				name = *label
			}
		} else {
			data, err = os.ReadFile(path)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: cannot read: %v\n", name, err)
			os.Exit(2)
		}
		docs = append(docs, decodeFile(name, data, rep)...)
	}
	if len(docs) == 0 && len(rep.problems) == 0 {
		fmt.Fprintln(os.Stderr, "no Kubernetes documents found in the input")
		os.Exit(1)
	}

	checkPolicy(docs, rep, policyOptions{workerGraceSeconds: int64(*workerGrace)})

	if *output == "json" {
		out := make([]map[string]any, 0, len(docs))
		for _, d := range docs {
			if d.raw != nil {
				out = append(out, d.raw)
			}
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", " ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(os.Stderr, "cannot write JSON: %v\n", err)
			os.Exit(2)
		}
	}
	for _, p := range rep.problems {
		fmt.Fprintln(os.Stderr, p.String())
	}
	if len(rep.problems) > 0 {
		fmt.Fprintf(os.Stderr, "%d problem(s) in %d document(s)\n", len(rep.problems), len(docs))
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "ok: %d document(s) valid\n", len(docs))
}

// decodeFile splits a multi-document YAML stream and decodes each document strictly. Every non-blank
// document is returned, also one that failed to decode (its obj is nil), so counts and JSON output
// stay complete.
func decodeFile(file string, data []byte, rep *report) []*document {
	var docs []*document
	for _, c := range splitDocuments(data) {
		if isBlankDocument(c.text) {
			continue
		}
		d := &document{file: file, line: c.line, index: len(docs) + 1}
		decodeDocument(d, c.text, rep)
		docs = append(docs, d)
	}
	return docs
}

type chunk struct {
	line int // 1-based line of the document's first line in the file
	text []byte
}

// splitDocuments cuts a YAML stream at "---" separator lines, remembering where each document starts
// so messages can point at a line of the file.
func splitDocuments(data []byte) []chunk {
	var out []chunk
	lines := strings.SplitAfter(string(data), "\n")
	start := 0
	flush := func(end int) {
		out = append(out, chunk{line: start + 1, text: []byte(strings.Join(lines[start:end], ""))})
	}
	for i, l := range lines {
		t := strings.TrimRight(l, "\r\n")
		if t == "---" || strings.HasPrefix(t, "--- ") || strings.HasPrefix(t, "---\t") {
			flush(i)
			start = i + 1
		}
	}
	flush(len(lines))
	return out
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// shiftLineNumbers turns the YAML parser's document-relative "line N" into a line of the file.
func shiftLineNumbers(msg string, offset int) string {
	return yamlLineRe.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(m, "line "))
		return fmt.Sprintf("line %d", n+offset)
	})
}

func isBlankDocument(text []byte) bool {
	for _, line := range strings.Split(string(text), "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

var strictSerializer = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, validationScheme, validationScheme, kjson.SerializerOptions{Strict: true})

// decodeDocument fills d from one YAML document; it reports why and returns false when the document
// cannot be used for the policy checks at all.
func decodeDocument(d *document, chunk []byte, rep *report) bool {
	// A lenient read first, only to name the document in messages.
	var loose map[string]any
	if err := yaml.Unmarshal(chunk, &loose); err != nil {
		rep.add(d, "", "invalid YAML: %v", err)
		return false
	}
	if loose == nil {
		rep.add(d, "", "a Kubernetes document must be a YAML mapping")
		return false
	}
	if md, ok := loose["metadata"].(map[string]any); ok {
		d.name, _ = md["name"].(string)
		d.ns, _ = md["namespace"].(string)
	}
	apiVersion, _ := loose["apiVersion"].(string)
	kind, _ := loose["kind"].(string)
	d.gvk.Kind = kind
	// YAMLToJSONStrict rejects duplicate keys, which plain YAML parsing silently resolves to the last one.
	js, err := yaml.YAMLToJSONStrict(chunk)
	if err != nil {
		rep.add(d, "", "invalid YAML: %s", shiftLineNumbers(err.Error(), d.line-1))
		return false
	}
	if err := json.Unmarshal(js, &d.raw); err != nil {
		rep.add(d, "", "a Kubernetes document must be a YAML mapping: %v", err)
		return false
	}
	if apiVersion == "" || kind == "" {
		rep.add(d, "apiVersion/kind", "both must be set (got apiVersion %q, kind %q)", apiVersion, kind)
		return false
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		rep.add(d, "apiVersion", "%v", err)
		return false
	}
	d.gvk = gv.WithKind(kind)
	if !validationScheme.Recognizes(d.gvk) {
		rep.add(d, "kind", "%s", unknownKindMessage(d.gvk))
		return false
	}
	obj, _, err := strictSerializer.Decode(js, nil, nil)
	if err != nil {
		if strict, ok := runtime.AsStrictDecodingError(err); ok {
			for _, e := range strict.Errors() {
				rep.add(d, "", "%v", e)
			}
			// A strict error still yields the decoded object: keep checking policy on it.
			if obj == nil {
				return false
			}
		} else {
			rep.add(d, "", "does not match the %s schema: %v", d.gvk.Kind, err)
			return false
		}
	}
	d.obj = obj
	if d.name == "" {
		rep.add(d, "metadata.name", "required")
	}
	return true
}

// notAResource lists types the scheme knows that are API plumbing, not objects one writes in a manifest.
var notAResource = map[string]bool{"WatchEvent": true, "Status": true, "APIGroup": true, "APIVersions": true, "APIResourceList": true, "SerializedReference": true, "RangeAllocation": true, "Binding": true, "ComponentStatus": true, "Event": true}

func unknownKindMessage(gvk schema.GroupVersionKind) string {
	var kinds []string
	for k := range validationScheme.KnownTypes(gvk.GroupVersion()) {
		if !strings.HasSuffix(k, "List") && !strings.HasSuffix(k, "Options") && !notAResource[k] {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	if len(kinds) == 0 {
		var gvs []string
		for _, gv := range validationScheme.PrioritizedVersionsAllGroups() {
			gvs = append(gvs, gv.String())
		}
		sort.Strings(gvs)
		return fmt.Sprintf("unknown apiVersion %q for kind %q; known: %s", gvk.GroupVersion().String(), gvk.Kind, strings.Join(gvs, ", "))
	}
	return fmt.Sprintf("unknown kind %q in %s; known kinds: %s", gvk.Kind, gvk.GroupVersion().String(), strings.Join(kinds, ", "))
}
