// Command temporal-config-check checks a Temporal server configuration template and a dynamic config file
// offline, with the server's own code (go.temporal.io/server):
//
//   - the template is rendered as the server renders it at start (text/template with the sprig functions,
//     when a comment in its first KiB says "enable-template"), in an environment holding exactly the
//     variables given with -set, so a variable the template reads but the pod does not set is an error;
//   - the result is decoded strictly into the server's config.Config (an unknown or misspelt key fails
//     with its line), then loaded and validated by the server's own loader (config.Load with the file, as
//     TEMPORAL_SERVER_CONFIG_FILE_PATH makes the server do) and config.Validate;
//   - the dynamic config file is checked against the server's known keys and value types.
//
// Usage:
//
//	temporal-config-check [-set NAME=VALUE]... [-dynamic FILE] [-o json] CONFIG_TEMPLATE
//
// With -o json the rendered configuration is printed as JSON on stdout. Exit status 0: valid; 1: problems
// (one per line on stderr); 2: bad usage or unreadable input.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"gopkg.in/yaml.v3"
)

type setFlags map[string]string

func (s setFlags) String() string { return fmt.Sprint(map[string]string(s)) }
func (s setFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", v)
	}
	s[name] = value
	return nil
}

func main() {
	env := setFlags{}
	flag.Var(env, "set", "an environment variable of the server pod, NAME=VALUE (repeatable); nothing else is visible to the template")
	dynamicFile := flag.String("dynamic", "", "a dynamic config file to check against the server's known keys")
	output := flag.String("o", "", `"json": print the rendered configuration as JSON on stdout`)
	flag.Parse()
	if flag.NArg() != 1 || (*output != "" && *output != "json") {
		fmt.Fprintln(os.Stderr, "usage: temporal-config-check [-set NAME=VALUE]... [-dynamic FILE] [-o json] CONFIG_TEMPLATE")
		os.Exit(2)
	}
	path := flag.Arg(0)
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: cannot read: %v\n", path, err)
		os.Exit(2)
	}

	var problems []string
	rendered, renderProblems := render(path, data, env)
	problems = append(problems, renderProblems...)
	if rendered != nil {
		problems = append(problems, check(path, rendered)...)
	}
	if *dynamicFile != "" {
		problems = append(problems, checkDynamic(*dynamicFile)...)
	}

	if *output == "json" && rendered != nil {
		var generic map[string]any
		if err := yaml.Unmarshal(rendered, &generic); err == nil {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", " ")
			_ = enc.Encode(generic)
		}
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "%d problem(s)\n", len(problems))
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "ok: %s renders to a valid Temporal server configuration\n", path)
}

var envRef = regexp.MustCompile(`env\s+"([A-Za-z_][A-Za-z0-9_]*)"`)

// render applies the server's templating rules to the file, in an environment of exactly env.
func render(path string, data []byte, env setFlags) ([]byte, []string) {
	if !templatingEnabled(data) {
		return data, nil
	}
	var problems []string
	var missing []string
	for _, m := range envRef.FindAllStringSubmatch(string(data), -1) {
		if _, ok := env[m[1]]; !ok {
			missing = append(missing, m[1])
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		problems = append(problems, fmt.Sprintf("%s: reads environment variable(s) the pod does not set: %s", path, strings.Join(dedupe(missing), ", ")))
	}
	os.Clearenv()
	for k, v := range env {
		_ = os.Setenv(k, v)
	}
	tpl, err := template.New(path).Funcs(sprig.FuncMap()).Option("missingkey=error").Parse(string(data))
	if err != nil {
		return nil, append(problems, fmt.Sprintf("%s: template: %v", path, err))
	}
	var out bytes.Buffer
	if err := tpl.Execute(&out, nil); err != nil {
		return nil, append(problems, fmt.Sprintf("%s: template: %v", path, err))
	}
	return out.Bytes(), problems
}

// templatingEnabled mirrors the server's loader: a comment containing "enable-template" in the first KiB.
func templatingEnabled(data []byte) bool {
	s := bufio.NewScanner(io.LimitReader(bytes.NewReader(data), 1024))
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if strings.HasPrefix(line, "#") && strings.Contains(line, "enable-template") {
			return true
		}
	}
	return false
}

func check(path string, rendered []byte) []string {
	var strict config.Config
	dec := yaml.NewDecoder(bytes.NewReader(rendered))
	// The server itself ignores unknown keys, which turns a misspelt key into a silently missing setting.
	dec.KnownFields(true)
	if err := dec.Decode(&strict); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			out := make([]string, 0, len(te.Errors))
			for _, e := range te.Errors {
				out = append(out, fmt.Sprintf("%s (rendered): %s", path, e))
			}
			return out
		}
		return []string{fmt.Sprintf("%s (rendered): %v", path, err)}
	}
	// Then exactly what the server does at start with TEMPORAL_SERVER_CONFIG_FILE_PATH: render, decode and
	// validate (its loader logs each step; keep stderr for findings).
	log.SetOutput(io.Discard)
	cfg, err := config.Load(config.WithConfigFile(path))
	if err != nil {
		return []string{fmt.Sprintf("%s: the server would refuse it: %v", path, err)}
	}
	if err := cfg.Validate(); err != nil {
		return []string{fmt.Sprintf("%s: %v", path, err)}
	}
	return nil
}

func checkDynamic(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return []string{fmt.Sprintf("%s: cannot read: %v", path, err)}
	}
	result := dynamicconfig.LoadYamlFile(data)
	var problems []string
	for _, e := range result.Errors {
		problems = append(problems, fmt.Sprintf("%s: %v", path, e))
	}
	// An unknown key is only a warning to the server (it may belong to a newer release), but in our own
	// file it is a typo that silently does nothing.
	for _, w := range result.Warnings {
		problems = append(problems, fmt.Sprintf("%s: %v", path, w))
	}
	return problems
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}
