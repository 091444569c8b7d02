package provider

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// troubleshootingTemplate holds the table of every diagnostic summary;
// docs/guides/troubleshooting.md is generated from it.
const troubleshootingTemplate = "../../templates/guides/troubleshooting.md.tmpl"

// TestTroubleshootingTableMatchesTheCode: every summary the provider can
// produce (the sum* constants) has a row in the troubleshooting table, every
// summary the table names is one the code produces, and no diagnostic is
// added with a summary written in place, where this test would not see it.
func TestTroubleshootingTableMatchesTheCode(t *testing.T) {
	t.Parallel()
	sums := summaryConstants(t)
	if len(sums) < 20 {
		t.Fatalf("found %d sum* constants; the parser missed them", len(sums))
	}
	table := troubleshootingSummaries(t)
	if len(table) < 20 {
		t.Fatalf("found %d summaries in the table of %s; the parser missed them", len(table), troubleshootingTemplate)
	}
	for name, format := range sums {
		re := summaryPattern(format)
		found := false
		for _, s := range table {
			found = found || re.MatchString(s)
		}
		if !found {
			t.Errorf("%s = %q has no row in %s", name, format, troubleshootingTemplate)
		}
	}
	for _, s := range table {
		found := false
		for _, format := range sums {
			found = found || summaryPattern(format).MatchString(s)
		}
		if !found {
			t.Errorf("%s lists %q, which no sum* constant produces", troubleshootingTemplate, s)
		}
	}
}

// summaryPattern matches a summary made from format: %s stands for a name,
// written out or as "…" in the table.
func summaryPattern(format string) *regexp.Regexp {
	return regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(format), "%s", `(\S+|…)`) + "$")
}

// summaryConstants parses the package's sources for the sum* constants, and
// fails the test where a diagnostic's summary is not made from one.
func summaryConstants(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	sums := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				if len(n.Names) == 1 && n.Names[0].Name == "advice" && len(n.Values) == 1 {
					checkAdvice(t, fset, n.Values[0])
				}
				for i, id := range n.Names {
					if !strings.HasPrefix(id.Name, "sum") || i >= len(n.Values) {
						continue
					}
					if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						sums[id.Name], _ = strconv.Unquote(lit.Value)
					}
				}
			case *ast.CallExpr:
				if arg := summaryArgument(n); arg != nil {
					checkSummaryExpr(t, fset, arg)
				}
			case *ast.FuncDecl:
				if strings.HasPrefix(n.Name.Name, "describe") {
					ast.Inspect(n.Body, func(m ast.Node) bool {
						if ret, ok := m.(*ast.ReturnStmt); ok && len(ret.Results) > 0 {
							checkSummaryExpr(t, fset, ret.Results[0])
						}
						return true
					})
				}
			}
			return true
		})
	}
	return sums
}

// summaryArgument is the summary passed to a diagnostic, or to the fail
// callback of parseMinValidity; nil for any other call.
func summaryArgument(call *ast.CallExpr) ast.Expr {
	index := -1
	switch fun := call.Fun.(type) {
	case *ast.SelectorExpr:
		switch fun.Sel.Name {
		case "AddError", "AddWarning":
			index = 0
		case "AddAttributeError", "AddAttributeWarning":
			index = 1
		}
	case *ast.Ident:
		if fun.Name == "fail" {
			index = 0
		}
	}
	if index < 0 || index >= len(call.Args) {
		return nil
	}
	return call.Args[index]
}

// checkSummaryExpr accepts a sum* constant, fmt.Sprintf of one, a variable
// that carries one (describe's result, a callback's parameter), or a call of
// a describe* function.
func checkSummaryExpr(t *testing.T, fset *token.FileSet, e ast.Expr) {
	t.Helper()
	switch e := e.(type) {
	case *ast.Ident:
		return
	case *ast.SelectorExpr:
		if e.Sel.Name == "summary" {
			return // a row of advice, checked there
		}
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok && strings.HasPrefix(id.Name, "describe") {
			return // checked where it returns
		}
		if sel, ok := e.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Sprintf" && len(e.Args) > 0 {
			if id, ok := e.Args[0].(*ast.Ident); ok && strings.HasPrefix(id.Name, "sum") {
				return
			}
		}
	}
	t.Errorf("%s: a diagnostic summary not made from a sum* constant (summaries.go)", fset.Position(e.Pos()))
}

// checkAdvice holds each row of the advice table to a sum* constant.
func checkAdvice(t *testing.T, fset *token.FileSet, table ast.Expr) {
	t.Helper()
	lit, ok := table.(*ast.CompositeLit)
	if !ok {
		t.Fatalf("%s: advice is not a table", fset.Position(table.Pos()))
	}
	for _, row := range lit.Elts {
		var value *ast.CompositeLit
		if kv, ok := row.(*ast.KeyValueExpr); ok {
			value, _ = kv.Value.(*ast.CompositeLit)
		}
		if value == nil || len(value.Elts) == 0 {
			t.Errorf("%s: a row of advice without a summary", fset.Position(row.Pos()))
			continue
		}
		if id, ok := value.Elts[0].(*ast.Ident); !ok || !strings.HasPrefix(id.Name, "sum") {
			t.Errorf("%s: a row of advice whose summary is not a sum* constant (summaries.go)", fset.Position(value.Pos()))
		}
	}
}

// troubleshootingSummaries reads the summaries in backticks from the first
// column of the troubleshooting table.
func troubleshootingSummaries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(troubleshootingTemplate)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	inTable := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "| Error | Cause | Fix |"):
			inTable = true
		case inTable && strings.HasPrefix(line, "|---"):
		case inTable && strings.HasPrefix(line, "| "):
			first := strings.SplitN(line, " | ", 2)[0]
			for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(first, -1) {
				out = append(out, m[1])
			}
		default:
			inTable = false
		}
	}
	return out
}
