package engine

import (
	"fmt"
	"strings"
	"testing"
)

// genInjective applies pl to every input and fails on two inputs with one
// output; check validates each output against its input.
func genInjective(t *testing.T, pl Pipeline, inputs []Value, check func(in, out Value) error) {
	t.Helper()
	seen := make(map[string]string, len(inputs))
	for _, in := range inputs {
		out := genKit.must(t, pl, in)
		if err := check(in, out); err != nil {
			t.Fatalf("%q → %q: %v", in.S, out.S, err)
		}
		if prev, dup := seen[out.S]; dup {
			t.Fatalf("%q and %q both gave %q", prev, in.S, out.S)
		}
		seen[out.S] = in.S
	}
}

func genSameShape(in, out Value) error {
	if in.Kind != out.Kind || len(in.S) != len(out.S) {
		return fmt.Errorf("kind or length changed")
	}
	for i := 0; i < len(in.S); i++ {
		if genClass(in.S[i]) != genClass(out.S[i]) {
			return fmt.Errorf("byte %d changed kind", i)
		}
	}
	return nil
}

func TestImitateUniqueInjective(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate_unique}`)
	t.Run("every 4-digit string", func(t *testing.T) {
		var in []Value
		for i := range 10000 {
			in = append(in, Str(fmt.Sprintf("%04d", i)))
		}
		genInjective(t, pl, in, genSameShape)
	})
	t.Run("every 4-digit number", func(t *testing.T) {
		var in []Value
		for i := 1000; i < 10000; i++ {
			in = append(in, Int(int64(i)))
		}
		genInjective(t, pl, in, func(in, out Value) error {
			if out.Kind != Number || len(out.S) != 4 || out.S[0] == '0' {
				return fmt.Errorf("not a 4-digit number")
			}
			return nil
		})
	})
	t.Run("every letter-digit-letter string", func(t *testing.T) {
		var in []Value
		for a := 'a'; a <= 'z'; a++ {
			for d := '0'; d <= '9'; d++ {
				for b := 'A'; b <= 'Z'; b++ {
					in = append(in, Str(fmt.Sprintf("%c%c-%c", a, d, b)))
				}
			}
		}
		genInjective(t, pl, in, genSameShape)
	})
	t.Run("single characters", func(t *testing.T) {
		var in []Value
		for c := '0'; c <= '9'; c++ {
			in = append(in, Str(string(c)))
		}
		genInjective(t, pl, in, genSameShape)
	})
	t.Run("long identifiers", func(t *testing.T) {
		// 40 characters: a domain of about 2^200, beyond 64 bits.
		var in []Value
		for i := range 3000 {
			in = append(in, Str(fmt.Sprintf("CUST-%08d-abcdefghij-%016x", i, uint64(i)*0x9e3779b97f4a7c15)))
		}
		genInjective(t, pl, in, genSameShape)
	})
}

func TestImitateUnique(t *testing.T) {
	pl := genKit.testMask(t, `{type: imitate_unique}`)
	genKit.checkDeterminism(t, pl, Str("C-1001"), Num("123456"), Str("abc"))
	t.Run("ignores the hash input", func(t *testing.T) {
		a, _ := genKit.run(pl, genSecret, Str("C-1001"), nil)
		b, _ := genKit.run(pl, genSecret, Str("C-1001"), []byte("some customer"))
		if a.S != b.S {
			t.Errorf("a hash input changed the output: %q vs %q", a.S, b.S)
		}
	})
	t.Run("seed namespaces", func(t *testing.T) {
		other := genKit.testMask(t, `{type: imitate_unique, seed: tracking}`)
		same := 0
		for i := range 50 {
			in := Str(fmt.Sprintf("ID%06d", i))
			if genKit.must(t, pl, in).S == genKit.must(t, other, in).S {
				same++
			}
		}
		if same > 2 {
			t.Errorf("%d of 50 values masked alike under different seeds", same)
		}
	})
	t.Run("numbers stay valid", func(t *testing.T) {
		for _, in := range []string{"0", "5", "-42", "0.125", "-10.5e3", "12345678901234567890123"} {
			out := genKit.must(t, pl, Num(in))
			if out.Kind != Number || !isJSONNumber(out.S) || len(out.S) != len(in) {
				t.Errorf("%s → %+v", in, out)
			}
		}
	})
	t.Run("nothing to replace", func(t *testing.T) {
		for _, in := range []Value{Str(""), Str("--/--"), NullValue} {
			if out := genKit.must(t, pl, in); !sameValue(in, out) {
				t.Errorf("%+v → %+v, want it unchanged", in, out)
			}
		}
	})
	t.Run("boolean is an error", func(t *testing.T) {
		if _, err := genKit.run(pl, genSecret, Boolean(false), nil); err == nil || !strings.Contains(err.Error(), "string or a number") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestImitateUniqueErrors(t *testing.T) {
	genKit.checkBad(t, []maskBadCase{
		{"unknown key", "type: imitate_unique\nhash_columns: [a]\n", "2:1", "hash_columns"},
		{"seed not a string", "type: imitate_unique\nseed: [a]\n", "2:7", "takes a string"},
	})
}

func TestFPEPermutationSmallDomains(t *testing.T) {
	// Every domain size from 1 to 300: the permutation must be a bijection.
	f := newFPE([32]byte{9}, []byte("test"))
	for n := uint64(1); n <= 300; n++ {
		seen := make([]bool, n)
		for x := range n {
			y := f.permute64(x, n, nil)
			if y >= n || seen[y] {
				t.Fatalf("n=%d: %d → %d is out of range or taken", n, x, y)
			}
			seen[y] = true
		}
	}
}
