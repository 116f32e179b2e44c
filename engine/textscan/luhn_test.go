package textscan

import "testing"

func TestLuhn(t *testing.T) {
	tests := []struct {
		payload string
		digit   byte
	}{
		{"411111111111111", '1'},
		{"7992739871", '3'},
		{"555555555555444", '4'},
		{"37828224631000", '5'},
		{"0", '0'},
	}
	for _, tt := range tests {
		t.Run(tt.payload, func(t *testing.T) {
			if got := LuhnDigit([]byte(tt.payload)); got != tt.digit {
				t.Fatalf("LuhnDigit(%s) = %c, want %c", tt.payload, got, tt.digit)
			}
			full := []byte(tt.payload + string(tt.digit))
			if !LuhnValid(full) {
				t.Errorf("LuhnValid(%s) = false", full)
			}
			full[len(full)-1] = '0' + (tt.digit-'0'+1)%10
			if LuhnValid(full) {
				t.Errorf("LuhnValid(%s) = true with a wrong check digit", full)
			}
		})
	}
	if LuhnValid([]byte("0")) {
		t.Error("LuhnValid accepts a single digit: a number needs a payload and a check digit")
	}
}
