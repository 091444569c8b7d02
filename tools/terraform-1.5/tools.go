//go:build tools

// Package terraform pins HashiCorp Terraform 1.5.7 (the last MPL-2.0 release,
// without ephemeral resources) for the acceptance-test CLI matrix (`make
// testacc-matrix`). It is built into ../../bin/terraform-1.5 by the
// GNUmakefile. Its go.mod has no replace directives to repeat.
package terraform

import _ "github.com/hashicorp/terraform"
