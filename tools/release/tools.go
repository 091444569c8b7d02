//go:build tools

// Package release pins GoReleaser, configured by ../../.goreleaser.yml. The
// GNUmakefile builds it into ../../bin/goreleaser.
package release

import _ "github.com/goreleaser/goreleaser/v2"
