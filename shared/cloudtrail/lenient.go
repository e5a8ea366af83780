package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
)

// The lenient path runs only when the fast decoder rejects a record. It
// tells JSON syntax errors from records whose fields have unexpected types,
// and fills the record field by field, converting values where the
// conversion is obvious (a boolean written as "true", an account id written
// as a number) and dropping values it cannot convert.

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// decodeLenient fills w from raw, which starts with '{'.
func decodeLenient(raw []byte, w *wireRecord) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) || !json.Valid(raw) {
			return recordErr(ReasonNotJSON, err)
		}
		return recordErr(ReasonWrongShape, err)
	}
	*w = wireRecord{}
	fillStruct(top, reflect.ValueOf(w).Elem())
	return nil
}

// lenientResources reads a resources list that the fast decoder rejected.
// Entries that are strings (the EventBridge form) are taken as ARNs.
func lenientResources(raw []byte) []Resource {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil
	}
	var out []Resource
	for _, el := range elems {
		switch firstByte(el) {
		case '{':
			var m map[string]json.RawMessage
			if json.Unmarshal(el, &m) != nil {
				continue
			}
			var r Resource
			fillStruct(m, reflect.ValueOf(&r).Elem())
			out = append(out, r)
		case '"':
			var s string
			if json.Unmarshal(el, &s) == nil {
				out = append(out, Resource{ARN: s})
			}
		}
	}
	return out
}

// fieldIndex maps JSON names of a struct type to field indexes: exact names
// and lower-cased names, matching encoding/json's case-insensitive fallback.
type fieldIndex struct {
	exact map[string]int
	fold  map[string]int
}

var fieldCache sync.Map // reflect.Type -> *fieldIndex

func fieldsOf(t reflect.Type) *fieldIndex {
	if fi, ok := fieldCache.Load(t); ok {
		return fi.(*fieldIndex)
	}
	fi := &fieldIndex{exact: map[string]int{}, fold: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fi.exact[name] = i
		fi.fold[strings.ToLower(name)] = i
	}
	actual, _ := fieldCache.LoadOrStore(t, fi)
	return actual.(*fieldIndex)
}

// fillStruct sets the fields of v (a struct) from the members of an object.
func fillStruct(members map[string]json.RawMessage, v reflect.Value) {
	fi := fieldsOf(v.Type())
	for k, raw := range members {
		i, ok := fi.exact[k]
		if !ok {
			if i, ok = fi.fold[strings.ToLower(k)]; !ok {
				continue
			}
		}
		setField(v.Field(i), raw)
	}
}

// setField stores raw into f when it can be converted; otherwise f is left
// as it is.
func setField(f reflect.Value, raw json.RawMessage) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return
	}
	if f.Type() == rawMessageType {
		f.SetBytes(bytes.Clone(raw))
		return
	}
	null := isNull(raw)
	switch f.Kind() {
	case reflect.String:
		switch raw[0] {
		case '"':
			var s string
			if json.Unmarshal(raw, &s) == nil {
				f.SetString(s)
			}
		case 't', 'f', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			f.SetString(string(raw))
		}
	case reflect.Bool:
		if b, ok := lenientBool(raw); ok {
			f.SetBool(b)
		}
	case reflect.Pointer:
		if null {
			f.SetZero()
			return
		}
		et := f.Type().Elem()
		switch et.Kind() {
		case reflect.Bool:
			if b, ok := lenientBool(raw); ok {
				p := reflect.New(et)
				p.Elem().SetBool(b)
				f.Set(p)
			}
		case reflect.Struct:
			var m map[string]json.RawMessage
			if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
				return
			}
			p := reflect.New(et)
			fillStruct(m, p.Elem())
			f.Set(p)
		}
	case reflect.Struct:
		var m map[string]json.RawMessage
		if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
			return
		}
		fillStruct(m, f)
	}
}

// lenientBool reads true, false, "true" and "false" (in any case).
func lenientBool(raw []byte) (bool, bool) {
	switch string(raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "true":
				return true, true
			case "false":
				return false, true
			}
		}
	}
	return false, false
}
