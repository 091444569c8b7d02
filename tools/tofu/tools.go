//go:build tools

// Package tofu pins the OpenTofu CLI used by the acceptance tests and the demo.
// It is built into ../../bin/tofu by the GNUmakefile; nothing downloads a CLI.
package tofu

import _ "github.com/opentofu/opentofu/cmd/tofu"
