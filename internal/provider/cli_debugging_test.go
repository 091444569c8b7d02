package provider

// The troubleshooting guide's "Debugging safely" settings, run as written:
// the variables of its marked ```sh block, with the real CLI, so that the
// guide cannot promise lines this provider no longer writes under them, let
// through what other providers write below INFO, or keep lines that carry a
// secret.

import (
	"regexp"
	"strings"
	"testing"

	"github.com/faceki/terraform-provider-faceki/internal/emulator"
)

// debugSettingsMarker precedes, in the troubleshooting guide, the ```sh
// block of recommended settings that this test runs.
const debugSettingsMarker = "<!-- internal/provider/cli_debugging_test.go runs the CLI with the settings of this block"

// debugSettingsFrom returns the variables the first ```sh block after the
// marker in the troubleshooting guide sets: `export NAME=VALUE` as NAME=VALUE,
// `unset NAME` as NAME="".
// An empty value is what an unset one is to the CLIs, the plugin SDK and this
// provider (each reads these variables with os.Getenv), and the harness
// appends the test's environment last, so that it wins over its TF_LOG=trace.
// TF_LOG_PATH is left to the harness, which reads the log it names.
func debugSettingsFrom(t *testing.T) map[string]string {
	t.Helper()
	body := markedBlocks(t, "docs/guides/troubleshooting.md", debugSettingsMarker, "sh")[0]
	settings := map[string]string{}
	export := regexp.MustCompile(`^export ([A-Z_][A-Z0-9_]*)=(\S*)$`)
	unset := regexp.MustCompile(`^unset ([A-Z_][A-Z0-9_]*)$`)
	for _, line := range strings.Split(body, "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		switch m, u := export.FindStringSubmatch(line), unset.FindStringSubmatch(line); {
		case line == "":
		case m != nil:
			settings[m[1]] = m[2]
		case u != nil:
			settings[u[1]] = ""
		default:
			t.Fatalf("the troubleshooting guide's settings block has a line this test cannot run: %q", line)
		}
	}
	delete(settings, "TF_LOG_PATH")
	return settings
}

// TestCLI_debugSettingsKeepProviderLines: under the guide's recommended
// settings (TF_LOG unset, the CLI's own lines at TRACE, every provider's from
// INFO), this provider's own lines, each FACEKI request among them, are still
// in the log, at INFO, beside the CLI's own trace lines; no provider's line
// below INFO is, which is where consumers write the token (the consumers
// guide); and nothing in the log, the output, the state or a saved plan holds
// the secret or a token, while a local-exec provisioner is handed the token
// and uses it.
func TestCLI_debugSettingsKeepProviderLines(t *testing.T) {
	cliPath(t) // skip before reading or building anything
	settings := debugSettingsFrom(t)
	if v, ok := settings["TF_LOG"]; !ok || v != "" {
		t.Fatalf("the guide's settings leave TF_LOG as it is (%q): they must unset it, or consumers log request bodies", v)
	}
	if settings["TF_LOG_PROVIDER"] == "" || settings["TF_LOG_CORE"] == "" {
		t.Fatalf("the guide's settings name no TF_LOG_PROVIDER or TF_LOG_CORE level: %v", settings)
	}

	srv := startEmulatorCLI(t, emulator.Options{})
	env := emulatorEnv(srv)
	for k, v := range settings {
		env[k] = v
	}
	w := newWorkspace(t, tokenConfig(1, ""), env)

	out := w.mustRun("plan", "-out=tfplan")
	show := w.showPlan()
	out2 := w.mustRun("apply", "-auto-approve")
	bearers := srv.Bearers()
	if len(bearers) != 1 {
		t.Fatalf("the KYC rules endpoint saw %d bearer tokens, want 1: the provisioner did not use the token", len(bearers))
	}
	if _, ok := srv.Issued(bearers[0]); !ok {
		t.Fatal("the provisioner's bearer is not a token the emulator issued")
	}

	trace := w.readFile("trace.log")
	// This provider's lines, as the CLI records them from its plugin
	// (provider.terraform-provider-faceki…), one per kind it logs at INFO.
	for _, msg := range []string{"FACEKI provider configured", "sending FACEKI request", "FACEKI response", "FACEKI access token served"} {
		if !regexp.MustCompile(`(?m)^\S+ \[INFO\] +provider\.terraform-provider-faceki[^:]*: ` + regexp.QuoteMeta(msg) + `:`).MatchString(trace) {
			t.Errorf("under the guide's settings the log has no %q line of this provider at INFO", msg)
		}
	}
	// No plugin's line below INFO: what a consumer writes of the token, from
	// DEBUG, through tflog or through Go's log (which the CLI files under
	// DEBUG), is held back. Every plugin writes such a line when it starts
	// (go-plugin's "plugin address"), so their absence is the settings' doing.
	if m := regexp.MustCompile(`(?m)^\S+ \[(?:DEBUG|TRACE)\] +provider\.terraform-provider-[^:]*:`).FindString(trace); m != "" {
		t.Errorf("under the guide's settings the log has a provider's line below INFO (%q): they would let a consumer's DEBUG lines through", m)
	}
	// The CLI's own trace lines (TF_LOG_CORE), not its providers'.
	if !regexp.MustCompile(`(?m)^\S+ \[TRACE\] +[^p\s]`).MatchString(trace) {
		t.Error("under the guide's settings the log has no trace line of the CLI itself")
	}
	secrets := append([]string{testSecret}, srv.IssuedTokens()...)
	if leaks := w.leaks(out+show+out2, secrets...); len(leaks) > 0 {
		t.Errorf("leaked: %v", leaks)
	}
}
