// Command inference is trusted inference: a tiny neural network (4 inputs,
// 4 hidden ReLU units, 1 sigmoid output) with fixed-point weights built into
// the code, evaluated on features the caller sends encrypted. The answer is
// signed with the contract's own key, so anyone holding the contract's
// public key can check that this code produced it for these features.
package main

import (
	"encoding/binary"
	"errors"

	"github.com/phala-go/phala/sdk"
)

// Scale is the fixed-point unit: 1.0 == 1000.
const Scale = 1000

// Weights (times Scale). A credit-risk style toy: features are income,
// debt ratio, years of history, late payments, each already normalised.
var (
	w1 = [4][4]int64{
		{800, -600, 300, -900},
		{-200, 900, -100, 700},
		{500, -300, 600, -400},
		{-700, 400, -500, 1000},
	}
	b1 = [4]int64{100, -50, 0, 20}
	w2 = [4]int64{1200, -1100, 900, -1300}
	b2 = int64(-100)
)

// PredictArgs carries the features, fixed-point (times Scale).
type PredictArgs struct {
	Features []int64 `json:"features"`
}

// Prediction is the signed answer.
type Prediction struct {
	Score     int64  `json:"score"` // probability times Scale
	Class     int    `json:"class"` // 1 when Score >= Scale/2
	Signature []byte `json:"signature"`
	PublicKey []byte `json:"public_key"`
}

// Purpose names the contract key that signs predictions.
const Purpose = "inference"

func init() {
	sdk.Query("predict", predict)
	sdk.Query("public_key", func(sdk.Empty) ([]byte, error) { return sdk.PublicKey(Purpose), nil })
}

func predict(a PredictArgs) (Prediction, error) {
	if len(a.Features) != 4 {
		return Prediction{}, errors.New("want 4 features")
	}
	for _, f := range a.Features {
		if f < -100*Scale || f > 100*Scale {
			return Prediction{}, errors.New("feature out of range [-100, 100]")
		}
	}
	score := Score(a.Features)
	p := Prediction{Score: score, PublicKey: sdk.PublicKey(Purpose)}
	if score >= Scale/2 {
		p.Class = 1
	}
	p.Signature = sdk.Sign(Purpose, SignedBytes(a.Features, score))
	return p, nil
}

// Score runs the network in integer arithmetic: the same on every machine.
func Score(x []int64) int64 {
	z := b2 * Scale
	for j := range 4 {
		h := b1[j] * Scale
		for i := range 4 {
			h += w1[j][i] * x[i]
		}
		h /= Scale
		if h > 0 {
			z += w2[j] * h
		}
	}
	return Sigmoid(z / Scale)
}

// Sigmoid approximates 1/(1+e^-x) as 0.5 + x/(2(1+|x|)) in fixed point
// (the "fast sigmoid"): monotone, in (0, 1), integer-only.
func Sigmoid(x int64) int64 {
	ax := x
	if ax < 0 {
		ax = -ax
	}
	return Scale/2 + x*Scale/(2*(Scale+ax))
}

// SignedBytes is what the signature covers: a label, the features and the
// score, fixed-width big-endian.
func SignedBytes(features []int64, score int64) []byte {
	b := []byte("phala/contracts/inference/v1")
	for _, f := range append(features, score) {
		b = binary.BigEndian.AppendUint64(b, uint64(f))
	}
	return b
}

func main() {}
