module github.com/faceki/terraform-provider-faceki/tools/testregistry

go 1.25.8

require golang.org/x/mod v0.35.0
