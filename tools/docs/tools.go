//go:build tools

// Package docs pins tfplugindocs, which renders docs/ from the provider's
// schema, templates/ and examples/. The GNUmakefile builds it into
// ../../bin/tfplugindocs.
package docs

import _ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
