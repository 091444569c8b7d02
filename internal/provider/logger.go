package provider

import (
	"context"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Log levels, as Terraform and OpenTofu read them for a provider's log
// lines, and as terraform-plugin-go reads them for this provider's own
// logger and for the SDK's (protocol and framework).
const (
	envLog         = "TF_LOG"
	envLogProvider = "TF_LOG_PROVIDER"
	envLogThis     = "TF_LOG_PROVIDER_FACEKI" // TF_LOG_PROVIDER_ and the provider's type name
	envLogSDK      = "TF_LOG_SDK"
	logLevelOff    = "OFF"
)

// QuietUnlessShown turns this provider's log lines and the SDK's off when the
// CLI that started the process will not show them. Terraform and OpenTofu
// show a provider's lines only when TF_LOG_PROVIDER, else TF_LOG, names a
// level other than OFF, and otherwise drop them unread; but the SDK logs
// every RPC at trace regardless, and writing each line (JSON, the caller's
// file and line, a write to the pipe) cost a tenth of an apply of 50
// instances. A level set for this provider's logger or the SDK is kept.
// Call it from main, before serving, and not in debug mode: there the
// process's stderr is a terminal.
func QuietUnlessShown() {
	level := os.Getenv(envLogProvider)
	if level == "" {
		level = os.Getenv(envLog)
	}
	if level != "" && !strings.EqualFold(level, logLevelOff) {
		return
	}
	for _, env := range []string{envLogThis, envLogSDK} {
		if _, set := os.LookupEnv(env); !set {
			_ = os.Setenv(env, logLevelOff)
		}
	}
}

// logger sends the provider's and the client's log lines to tflog. Their
// fields hold nothing secret: the client's own text, numbers, and outside
// text that passed the gate. They are at INFO and WARN, so that
// TF_LOG_PROVIDER=INFO shows them while it holds back what other providers
// write at DEBUG, a token handed to them among it (see "Debugging safely").
type logger struct{}

func (logger) Info(ctx context.Context, msg string, fields map[string]any) {
	tflog.Info(ctx, msg, fields)
}

func (logger) Warn(ctx context.Context, msg string, fields map[string]any) {
	tflog.Warn(ctx, msg, fields)
}
