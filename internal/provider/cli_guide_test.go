//go:build !windows

package provider

// The testing guide's two pre-release routes, run as written against this
// checkout: the local route's shell blocks and the CI job's `run:` lines, in
// order, so that the guide cannot drift from the emulator's flags, the
// repository's paths or the example's files.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// guideJobMarker precedes, in the testing guide, the ```yaml block of the job
// this test runs.
const guideJobMarker = "<!-- internal/provider/cli_guide_test.go runs the run: lines of this job"

// guideRepoURL is the clone the guide's job starts from; the test clones
// this checkout in its place.
const guideRepoURL = "https://github.com/faceki/terraform-provider-faceki"

// testingGuide is the guide both routes come from.
const testingGuide = "docs/guides/testing-modules.md"

type guideJob struct {
	Env   map[string]string `yaml:"env"`
	Steps []struct {
		Name string `yaml:"name"`
		Uses string `yaml:"uses"`
		If   string `yaml:"if"`
		Run  string `yaml:"run"`
	} `yaml:"steps"`
}

// guideCLI returns the CLI under test, or skips the test unless this machine
// has what the guide's route runs.
func guideCLI(t *testing.T, route string) string {
	t.Helper()
	cli := cliPath(t) // skip before building anything
	for _, tool := range []string{"git", "bash", "curl", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the guide's %s needs %s", route, tool)
		}
	}
	return cli
}

// guideShell runs a script of the guide as GitHub Actions runs a step: bash
// -eo pipefail, in dir, with env alone, in a process group of its own so
// that the test can stop what the script leaves running.
func guideShell(ctx context.Context, dir string, env map[string]string, script string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// guideJobFrom returns the job in the first ```yaml block after the marker
// in the testing guide.
func guideJobFrom(t *testing.T) guideJob {
	t.Helper()
	block := markedBlocks(t, testingGuide, guideJobMarker, "yaml")[0]
	var doc struct {
		Jobs map[string]guideJob `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(block), &doc); err != nil {
		t.Fatalf("the testing guide's job is not YAML: %v", err)
	}
	if len(doc.Jobs) != 1 {
		t.Fatalf("the testing guide's YAML has %d jobs, want 1", len(doc.Jobs))
	}
	for _, job := range doc.Jobs {
		return job
	}
	panic("unreachable")
}

// TestCLI_guideJobRunsAsWritten: the testing guide's pre-release CI job,
// step by step as GitHub Actions runs it (bash -eo pipefail, $GITHUB_ENV,
// $RUNNER_TEMP, `if: always()`), in a copy of examples/testing, with the
// repository cloned from this checkout and `terraform` being the CLI under
// test. Every step must pass, the tests and tests/failures.sh must report
// every case passed, and the emulator's log must show flaky's 503.
func TestCLI_guideJobRunsAsWritten(t *testing.T) {
	cli := guideCLI(t, "job")
	guide := repoFile(t, testingGuide)
	job := guideJobFrom(t)
	if !strings.Contains(guide, "grep -qs listening emulator.out") {
		t.Error("the guide's wait loops must read emulator.out with grep -qs: it may not exist yet")
	}

	tmp := t.TempDir()
	root, repo := guideCheckout(t, tmp)
	work, env := guideModule(t, tmp, root, cli, "terraform")

	// The runner's directories.
	runnerTemp := filepath.Join(tmp, "runner-temp")
	if err := os.Mkdir(runnerTemp, 0o755); err != nil {
		t.Fatal(err)
	}
	githubEnv := filepath.Join(tmp, "github-env")
	env["RUNNER_TEMP"], env["GITHUB_ENV"], env["GITHUB_WORKSPACE"] = runnerTemp, githubEnv, work
	for k, v := range job.Env {
		env[k] = v
	}

	// Each step's bash leads a process group of its own: what it leaves
	// running (the emulator, under nohup) is stopped with it at the end.
	var groups []int
	t.Cleanup(func() {
		for _, g := range groups {
			_ = syscall.Kill(-g, syscall.SIGTERM)
		}
	})
	var outputs []string
	failed := false
	ran := 0
	for i, step := range job.Steps {
		if step.Uses != "" {
			continue // checkout, Go and the CLI are this test's own
		}
		if failed && step.If != "always()" {
			continue
		}
		script := strings.ReplaceAll(step.Run, guideRepoURL, "file://"+repo)
		if err := os.WriteFile(githubEnv, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		cmd := guideShell(ctx, work, env, script)
		started := time.Now()
		out, err := cmd.CombinedOutput()
		cancel()
		if cmd.Process != nil {
			groups = append(groups, cmd.Process.Pid)
		}
		ran++
		name := step.Name
		if name == "" {
			name = strings.SplitN(step.Run, "\n", 2)[0]
		}
		t.Logf("step %d, %s: %s, exit %d\n%s", i+1, name, time.Since(started).Round(100*time.Millisecond), exitCode(err), out)
		outputs = append(outputs, string(out))
		if err != nil {
			t.Errorf("step %d (%s) failed: %v", i+1, name, err)
			failed = true
		}
		// $GITHUB_ENV: KEY=VALUE lines for the steps after this one.
		f, err := os.Open(githubEnv)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok {
				env[k] = v
			}
		}
		_ = f.Close()
	}
	if failed {
		return
	}
	all := strings.Join(outputs, "\n")

	// Every test file and every failure case of the example passed.
	runs, files := 0, 0
	for _, pattern := range []string{"tests/*.tftest.hcl", "tests/failures/*.tftest.hcl"} {
		matches, _ := filepath.Glob(filepath.Join(root, "examples", "testing", pattern))
		for _, m := range matches {
			b, _ := os.ReadFile(m)
			if strings.Contains(pattern, "failures") {
				files++
			} else {
				runs += len(regexp.MustCompile(`(?m)^run "`).FindAll(b, -1))
			}
		}
	}
	for _, want := range []string{
		regexp.QuoteMeta(strconv.Itoa(runs) + " passed, 0 failed."),
		`failures\.sh \([^)]*\): ` + strconv.Itoa(files) + ` passed, 0 failed`,
		`GET /auth/api/access-token -> 503 client "flaky" \(flaky=503: 503 \(1 of 1\)\)`,
		`GET /auth/api/access-token -> 200 client "flaky"`,
	} {
		if !regexp.MustCompile(want).MatchString(all) {
			t.Errorf("the job's output does not match %q", want)
		}
	}
	if ran < 5 || runs < 3 || files < 2 {
		t.Errorf("ran %d steps, %d runs and %d failure cases: the guide's job or the example lost some", ran, runs, files)
	}
	if strings.Contains(all, "eyJ") {
		t.Error("a token (eyJ…) is in the job's output")
	}
	// The emulator's PID, kept in $GITHUB_ENV for `kill -HUP` between CLIs.
	if pid, err := strconv.Atoi(env["FACEKI_EMULATOR_PID"]); err != nil {
		t.Errorf("the job keeps no FACEKI_EMULATOR_PID in $GITHUB_ENV (%q)", env["FACEKI_EMULATOR_PID"])
	} else if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && !strings.Contains(string(cmdline), "faceki-emulator") {
		t.Errorf("FACEKI_EMULATOR_PID=%d is not the emulator: %q", pid, cmdline)
	}
}

// guideCheckout makes the checkout a repository to clone in tmp: HEAD plus
// uncommitted changes to tracked files (git stash create makes that commit
// without touching the work tree; new files count once added). It returns
// the checkout's root and the repository.
func guideCheckout(t *testing.T, tmp string) (root, repo string) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	repo = filepath.Join(tmp, "repo.git")
	gitEnv := append(os.Environ(), "GIT_AUTHOR_NAME=guide-test", "GIT_AUTHOR_EMAIL=guide-test@invalid",
		"GIT_COMMITTER_NAME=guide-test", "GIT_COMMITTER_EMAIL=guide-test@invalid")
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = dir, gitEnv
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	rev := git(root, "stash", "create")
	if rev == "" {
		rev = "HEAD"
	}
	git(tmp, "init", "-q", "--bare", "--initial-branch=main", repo)
	git(root, "push", "-q", repo, rev+":refs/heads/main")
	return root, repo
}

// guideModule copies examples/testing into tmp as the module under test and
// returns it with the environment its commands run in: this process's, less
// TF_* and FACEKI_*, with each of names on PATH being cli.
func guideModule(t *testing.T, tmp, root, cli string, names ...string) (string, map[string]string) {
	t.Helper()
	work := filepath.Join(tmp, "module")
	if err := os.CopyFS(work, os.DirFS(filepath.Join(root, "examples", "testing"))); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(work, "tests", "failures.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	shims := filepath.Join(tmp, "shims")
	if err := os.Mkdir(shims, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if err := os.Symlink(cli, filepath.Join(shims, name)); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && !strings.HasPrefix(k, "TF_") && !strings.HasPrefix(k, "FACEKI_") {
			env[k] = v
		}
	}
	env["PATH"] = shims + string(os.PathListSeparator) + env["PATH"]
	env["CHECKPOINT_DISABLE"] = "1"
	return work, env
}

// guideLocalRoute is the marker before each shell block of the testing
// guide's local pre-release route.
const guideLocalRoute = "<!-- local route -->"

// TestCLI_guideLocalRouteRunsAsWritten: the testing guide's local
// pre-release route, its shell blocks in order in one bash -eo pipefail, as
// a user pastes them: in a copy of examples/testing, with a HOME of its own,
// the repository cloned from this checkout, and TF_CLI_CONFIG_FILE naming a
// file that does not exist (the route must export its own). Both `terraform`
// and `tofu` are the CLI under test, so the suite runs twice against one
// emulator, with the route's `kill -HUP` between the runs and its `kill` at
// the end. Every run must pass, flaky's 503 must come once per run (the
// SIGHUP started its scenario over), the emulator must say why it refused
// the wrong secret, and the paths the guide gives for its links before
// publication must exist in the clone.
func TestCLI_guideLocalRouteRunsAsWritten(t *testing.T) {
	cli := guideCLI(t, "local route")
	guide := repoFile(t, testingGuide)
	blocks := markedBlocks(t, testingGuide, guideLocalRoute, "shell")
	if len(blocks) != 4 {
		t.Fatalf("the guide's local route has %d marked shell blocks, want 4 (clone and build, CLI configuration, emulator, tests)", len(blocks))
	}

	tmp := t.TempDir()
	root, repo := guideCheckout(t, tmp)
	work, env := guideModule(t, tmp, root, cli, "terraform", "tofu")
	home := filepath.Join(tmp, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	// Go's caches stay the machine's: a user's HOME has them.
	for _, k := range []string{"GOPATH", "GOMODCACHE", "GOCACHE"} {
		out, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatal(err)
		}
		env[k] = strings.TrimSpace(string(out))
	}
	env["HOME"] = home
	env["TF_CLI_CONFIG_FILE"] = filepath.Join(tmp, "missing", "cli.tfrc")

	// The test's one addition: wait for the emulator the route stopped, so
	// that its last log line is written (and its exit status is 0).
	script := strings.ReplaceAll(strings.Join(blocks, "\n"), guideRepoURL, "file://"+repo) + "wait \"$FACEKI_EMULATOR_PID\"\n"
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := guideShell(ctx, work, env, script)
	started := time.Now()
	out, err := cmd.CombinedOutput()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) // the emulator, if the route stopped before its kill
	}
	t.Logf("the local route: %s, exit %d\n%s", time.Since(started).Round(100*time.Millisecond), exitCode(err), out)
	if err != nil {
		t.Fatalf("the local route failed: %v", err)
	}
	emulatorLog, err := os.ReadFile(filepath.Join(work, "emulator.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("emulator.log:\n%s", emulatorLog)

	runs := 0
	matches, _ := filepath.Glob(filepath.Join(root, "examples", "testing", "tests", "*.tftest.hcl"))
	for _, m := range matches {
		b, _ := os.ReadFile(m)
		runs += len(regexp.MustCompile(`(?m)^run "`).FindAll(b, -1))
	}
	failures, _ := filepath.Glob(filepath.Join(root, "examples", "testing", "tests", "failures", "*.tftest.hcl"))
	for _, c := range []struct {
		text, pattern string
		want          int
		orMore        bool
	}{
		{string(out), regexp.QuoteMeta(strconv.Itoa(runs) + " passed, 0 failed."), 2, false},
		{string(out), `failures\.sh \([^)]*\): ` + strconv.Itoa(len(failures)) + ` passed, 0 failed`, 2, false},
		{string(emulatorLog), `GET /auth/api/access-token -> 503 client "flaky" \(flaky=503: 503 \(1 of 1\)\)`, 2, false},
		{string(emulatorLog), `SIGHUP: 0 -fault and 2 -client scenarios start over`, 1, false},
		// The wrong-secret case, once per CLI run at least (a CLI may
		// open the ephemeral resource more than once).
		{string(emulatorLog), `-> 401 client "ci-client": refused: wrong client secret`, 2, true},
		{string(emulatorLog), `stopped by terminated after`, 1, false},
	} {
		got := len(regexp.MustCompile(c.pattern).FindAllString(c.text, -1))
		if got < c.want || (got > c.want && !c.orMore) {
			t.Errorf("%d matches of %q, want %d", got, c.pattern, c.want)
		}
	}
	if runs < 3 || len(failures) < 2 {
		t.Errorf("%d runs and %d failure cases: the example lost some", runs, len(failures))
	}
	if strings.Contains(string(out), "eyJ") || strings.Contains(string(emulatorLog), "eyJ") {
		t.Error("a token (eyJ…) is in the route's output or the emulator's log")
	}
	// The links of the guide go to pages that exist once the provider is
	// published; until then it names paths in the clone, which must exist.
	for _, p := range regexp.MustCompile(`\$HOME/faceki/[A-Za-z0-9_./-]*[A-Za-z0-9_]`).FindAllString(guide, -1) {
		if _, err := os.Stat(filepath.Join(home, strings.TrimPrefix(p, "$HOME/"))); err != nil {
			t.Errorf("the guide names %s, which the clone does not have", p)
		}
	}
	for _, p := range []string{"$HOME/faceki/docs/guides/troubleshooting.md", "$HOME/faceki/examples/testing"} {
		if !strings.Contains(guide, p) {
			t.Errorf("the guide does not name %s for its link before publication", p)
		}
	}
}
