package engine

import (
	"strings"
	"testing"
)

func TestFromJSONPath(t *testing.T) {
	doc := `{"billing": {"city": "Wellington", "zip": 6011, "tags": ["a", "b"]}, "items": [{"sku": "X1"}, {"sku": "X2"}], "gone": null}`
	tests := []struct {
		name string
		src  string
		want Value
	}{
		{"string", `{type: from_json_path, json_path: "$.billing.city"}`, Str("Wellington")},
		{"number keeps its type", `{type: from_json_path, json_path: "$.billing.zip"}`, Num("6011")},
		{"DataMasque list form", `{type: from_json_path, json_path: [items, 1, sku]}`, Str("X2")},
		{"array", `{type: from_json_path, json_path: "$.billing.tags"}`, Value{Kind: Array, Raw: []byte(`["a", "b"]`)}},
		{"null", `{type: from_json_path, json_path: "$.gone"}`, NullValue},
		{"missing, null", `{type: from_json_path, json_path: "$.nope", on_missing: "null"}`, NullValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl := genKit.testMask(t, tt.src)
			got, err := genKit.runDoc(pl, genSecret, Str("original"), doc, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !sameValue(got, tt.want) {
				t.Errorf("got %+v (%s), want %+v", got, got.Raw, tt.want)
			}
		})
	}
	t.Run("missing is an error", func(t *testing.T) {
		pl := genKit.testMask(t, `{type: from_json_path, json_path: "$.billing.street"}`)
		if _, err := genKit.runDoc(pl, genSecret, Str("x"), doc, nil); err == nil || !strings.Contains(err.Error(), "found nothing") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestFromJSONPathErrors(t *testing.T) {
	genKit.checkBad(t, []maskBadCase{
		{"missing json_path", `{type: from_json_path}`, "1:1", `missing required key "json_path"`},
		{"bad path", "type: from_json_path\njson_path: \"$.a[\"\n", "2:12", "bad path"},
		{"descendant", "type: from_json_path\njson_path: \"$..email\"\n", "2:12", "must name one value"},
		{"wildcard", "type: from_json_path\njson_path: [items, \"*\", sku]\n", "2:12", "must name one value"},
		{"bad on_missing", "type: from_json_path\njson_path: $.a\non_missing: skip\n", "3:13", "on_missing must be error or null"},
	})
}
