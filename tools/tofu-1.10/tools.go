//go:build tools

// Package tofu pins OpenTofu 1.10, the last OpenTofu release without
// ephemeral resources, for the acceptance-test CLI matrix (`make
// testacc-matrix`). It is built into ../../bin/tofu-1.10 by the GNUmakefile.
package tofu

import _ "github.com/opentofu/opentofu/cmd/tofu"
