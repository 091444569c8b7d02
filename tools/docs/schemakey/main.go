// Command schemakey renames the provider's key in a `providers schema -json`
// document to the short name tfplugindocs looks up.
//
// The CLI keys a provider by its full address, which differs between
// OpenTofu (registry.opentofu.org/faceki/faceki) and Terraform
// (registry.terraform.io/faceki/faceki); tfplugindocs wants `faceki` (or
// registry.terraform.io/hashicorp/faceki). Usage:
//
//	schemakey -name faceki < schema.json > renamed.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	name := flag.String("name", "", "provider type name, e.g. faceki")
	flag.Parse()
	if err := run(os.Stdin, os.Stdout, *name); err != nil {
		fmt.Fprintln(os.Stderr, "schemakey:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer, name string) error {
	if name == "" {
		return fmt.Errorf("-name is required")
	}
	var doc map[string]json.RawMessage
	if err := json.NewDecoder(in).Decode(&doc); err != nil {
		return fmt.Errorf("reading the schema: %w", err)
	}
	var schemas map[string]json.RawMessage
	if err := json.Unmarshal(doc["provider_schemas"], &schemas); err != nil || schemas == nil {
		return fmt.Errorf("no provider_schemas in the input (is it `providers schema -json` output?)")
	}
	var found []string
	for key := range schemas {
		if key == name || strings.HasSuffix(key, "/"+name) {
			found = append(found, key)
		}
	}
	if len(found) != 1 {
		return fmt.Errorf("want exactly one provider named %q, found %d among %d providers", name, len(found), len(schemas))
	}
	renamed := map[string]json.RawMessage{name: schemas[found[0]]}
	b, err := json.Marshal(renamed)
	if err != nil {
		return err
	}
	doc["provider_schemas"] = b
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
