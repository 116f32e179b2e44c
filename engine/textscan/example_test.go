package textscan_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/maskstream/maskstream/engine/textscan"
)

func ExampleFind() {
	note := "Refund 4111 1111 1111 1111 to jane@example.com, called from 10.0.0.7 on 2024-03-11."
	for _, m := range textscan.Find(note, textscan.All, nil) {
		fmt.Printf("%s %q\n", m.Kind, note[m.Start:m.End])
	}
	// Output:
	// credit_card "4111 1111 1111 1111"
	// email "jane@example.com"
	// ipv4 "10.0.0.7"
}

func ExampleFake() {
	card := "4111 1111 1111 1111"
	out := string(textscan.Fake(nil, textscan.CreditCard, card, rand.NewPCG(1, 2)))
	fmt.Println(len(out) == len(card), out[:2], textscan.Valid(textscan.CreditCard, out))
	// Output: true 41 true
}
