package engine

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// numeric_bucket replaces a number with a random number from the same
// bucket, or with the bucket's label. Boundaries b0 < b1 < ... < bn make
// the buckets [b0, b1), [b1, b2), ... [bn-1, bn]; a value below b0 falls in
// [b0 - w, b0) and a value above bn in (bn, bn + w], where w is the width of
// the nearest bucket, so nothing is left unmasked. A whole number (1e3
// included) gets a whole number, a decimal the same number of decimals; a
// number stays a number and numeric text stays text.

func init() { register("numeric_bucket", newNumericBucket) }

type numericBucketParams struct {
	Buckets []float64 `yaml:"buckets" ms:"required"`
	// Labels (ours) names the buckets: one label per bucket, plus one
	// each for below the first boundary and above the last. A label
	// replaces the value with a string.
	Labels []string `yaml:"labels"`
}

type numericBucketMask struct {
	bounds []float64
	labels []string
}

func newNumericBucket(p *Params) (Mask, error) {
	var ps numericBucketParams
	if err := p.Decode(&ps); err != nil {
		return nil, err
	}
	at := p.Param("buckets")
	if len(ps.Buckets) < 2 {
		return nil, p.ErrorAt(at, "numeric_bucket needs at least two boundaries in buckets, as in buckets: [0, 18, 65, 120]")
	}
	for i, b := range ps.Buckets {
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return nil, p.ErrorAt(at, "buckets[%d] is not a finite number", i)
		}
		if i > 0 && b <= ps.Buckets[i-1] {
			return nil, p.ErrorAt(at, "buckets must go up strictly: buckets[%d] is not greater than buckets[%d]", i, i-1)
		}
	}
	if ps.Labels != nil && len(ps.Labels) != len(ps.Buckets)+1 {
		return nil, p.ErrorAt(p.Param("labels"), "labels needs %d entries for %d boundaries: one for below the first, one per bucket, one for above the last", len(ps.Buckets)+1, len(ps.Buckets))
	}
	return &numericBucketMask{bounds: ps.Buckets, labels: ps.Labels}, nil
}

// bucket returns the index of x's bucket (0 is below b0, len(bounds) is
// above the last) and the range a replacement is drawn from. Only the
// range above bn leaves out its low end: bn belongs to the last bucket, so
// drawing it would put a value above the boundaries back inside them.
func (m *numericBucketMask) bucket(x float64) (idx int, lo, hi float64, loExcl, hiIncl bool) {
	b := m.bounds
	n := len(b)
	switch {
	case x < b[0]:
		return 0, b[0] - (b[1] - b[0]), b[0], false, false
	case x > b[n-1]:
		return n, b[n-1], b[n-1] + (b[n-1] - b[n-2]), true, true
	}
	for i := 1; i < n; i++ {
		if x < b[i] || i == n-1 {
			return i, b[i-1], b[i], false, i == n-1
		}
	}
	return n - 1, b[n-2], b[n-1], false, true
}

var errXfNotNumeric = errors.New("numeric_bucket takes a number, or a string holding one")

func (m *numericBucketMask) Apply(c *Ctx, v Value) (Value, error) {
	var text string
	switch v.Kind {
	case Number:
		text = v.S
	case String:
		text = strings.TrimSpace(v.S)
		if !isJSONNumber(text) {
			return Value{}, errXfNotNumeric
		}
	default:
		return Value{}, errXfNotNumeric
	}
	x, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(x, 0) {
		return Value{}, errXfNotNumeric
	}
	idx, lo, hi, loExcl, hiIncl := m.bucket(x)
	if m.labels != nil {
		return Str(m.labels[idx]), nil
	}
	decimals, whole := xfDecimals(text, x)
	// Beyond 12 decimals a float64 cannot tell the drawn values apart.
	decimals = min(decimals, 12)
	r := c.Rand()
	var out string
	if whole {
		ilo, ihi := math.Ceil(lo), math.Ceil(hi)-1
		if loExcl {
			ilo = math.Floor(lo) + 1
		}
		if hiIncl {
			ihi = math.Floor(hi)
		}
		if ilo > ihi || ihi-ilo > 1<<53 {
			return Value{}, errors.New("the value's bucket holds no whole number to draw; use boundaries at least 1 apart for whole numbers")
		}
		span := int64(ihi - ilo)
		n := int64(ilo) + r.Int64Range(0, span)
		if span > 0 && float64(n) == x {
			// Never the original when the bucket has another value.
			n = int64(ilo) + (n-int64(ilo)+1+r.Int64Range(0, span-1))%(span+1)
		}
		out = strconv.FormatInt(n, 10)
	} else {
		scale := math.Pow(10, float64(decimals))
		steps := math.Floor((hi-lo)*scale) - 1
		if hiIncl {
			steps++
		}
		// The draw is lo + k/scale for k in [kmin, kmin+steps].
		kmin := 0.0
		if loExcl {
			if steps < 1 {
				return Value{}, errors.New("the value's bucket holds no number with as many decimals to draw; use wider buckets")
			}
			kmin, steps = 1, steps-1
		}
		if steps < 0 {
			steps = 0
		}
		k := kmin + float64(r.Int64Range(0, int64(math.Min(steps, 1<<53))))
		y := lo + k/scale
		out = strconv.FormatFloat(y, 'f', decimals, 64)
		if out == text && steps > 0 {
			k = kmin + math.Mod(k-kmin+1+float64(r.Int64Range(0, int64(math.Min(steps-1, 1<<53)))), steps+1)
			out = strconv.FormatFloat(lo+k/scale, 'f', decimals, 64)
		}
	}
	if v.Kind == Number {
		return Num(out), nil
	}
	return Str(out), nil
}

// xfDecimals returns how many decimals a number literal lit (of value x)
// shows, and whether it is a whole number: no point and no exponent, or an
// exponent form whose value is whole (1e3, 2.5E2), which is what its writer
// meant. Another exponent form is drawn with six decimals.
func xfDecimals(lit string, x float64) (int, bool) {
	if strings.ContainsAny(lit, "eE") {
		if x == math.Trunc(x) && math.Abs(x) <= 1<<53 {
			return 0, true
		}
		return 6, false
	}
	i := strings.IndexByte(lit, '.')
	if i < 0 {
		return 0, true
	}
	return len(lit) - i - 1, false
}
