//go:build tools

// Package restapi pins Mastercard/terraform-provider-restapi, a real
// third-party provider that the consumer acceptance test feeds a FACEKI token
// through its provider block. It is built into
// ../../bin/terraform-provider-restapi_v1.20.0 by the GNUmakefile and
// installed by the test from a filesystem mirror: nothing is downloaded.
package restapi

import _ "github.com/Mastercard/terraform-provider-restapi"
