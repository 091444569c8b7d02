//go:build tools

// Package lint pins golangci-lint, configured by ../../.golangci.yml. The
// GNUmakefile builds it into ../../bin/golangci-lint.
package lint

import _ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
