package demo

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/contracts"
)

// inferenceScale is the model's fixed-point unit (contracts/inference Scale).
const inferenceScale = 1000

// prediction is the inference contract's answer.
type prediction struct {
	Score     int64  `json:"score"`
	Class     int    `json:"class"`
	Signature []byte `json:"signature"`
	PublicKey []byte `json:"public_key"`
}

// The inference: bob sends his features sealed, the workers run the model
// and sign the answer with the contract's own key, which anyone can check.
func (r *run) inferenceSteps() []step {
	in := r.inputs
	b := r.people.bob
	return []step{
		{"the contract's signing key (query)", func(ctx context.Context) (string, error) {
			ans, err := r.query(ctx, nil, contracts.Inference, "public_key", nil, func(a client.QueryAnswer) error {
				if err := a.Err(); err != nil {
					return err
				}
				var k []byte
				if err := json.Unmarshal(a.Output, &k); err != nil || len(k) != ed25519.PublicKeySize {
					return fmt.Errorf("public_key answered %s: not an ed25519 key", a.Output)
				}
				r.inferenceKey = k
				return nil
			})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("ed25519 %x (%d workers agree)", r.inferenceKey, ans.workers), nil
		}},
		{"bob asks for a prediction on his features (sealed query; the answer is sealed to him)", func(ctx context.Context) (string, error) {
			var p prediction
			ans, err := r.query(ctx, &b, contracts.Inference, "predict", map[string]any{"features": in.Features}, func(a client.QueryAnswer) error {
				if err := a.Err(); err != nil {
					return err
				}
				if err := json.Unmarshal(a.Output, &p); err != nil {
					return fmt.Errorf("predict answered %s: %w", a.Output, err)
				}
				return r.checkPrediction(p, in.Features)
			})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("score %d/%d, class %d, signed by the contract's key (%d workers agree)", p.Score, inferenceScale, p.Class, ans.workers), nil
		}},
	}
}

// checkPrediction: a probability, the class it implies, and the
// contract's signature over the features and the score.
func (r *run) checkPrediction(p prediction, features []int64) error {
	if p.Score <= 0 || p.Score >= inferenceScale {
		return fmt.Errorf("score %d is not a probability in (0, %d)", p.Score, inferenceScale)
	}
	if want := boolInt(p.Score >= inferenceScale/2); p.Class != want {
		return fmt.Errorf("class %d for score %d, want %d", p.Class, p.Score, want)
	}
	if !bytes.Equal(p.PublicKey, r.inferenceKey) {
		return fmt.Errorf("signed by %x, not the contract's key %x", p.PublicKey, r.inferenceKey)
	}
	if !ed25519.Verify(ed25519.PublicKey(r.inferenceKey), predictionBytes(features, p.Score), p.Signature) {
		return fmt.Errorf("the signature does not verify over the features and score %d", p.Score)
	}
	return nil
}

// predictionBytes is what the inference contract signs
// (contracts/inference SignedBytes): a label, then the features and the
// score as big-endian 64-bit integers.
func predictionBytes(features []int64, score int64) []byte {
	b := []byte("phala/contracts/inference/v1")
	for _, f := range append(append([]int64(nil), features...), score) {
		b = binary.BigEndian.AppendUint64(b, uint64(f))
	}
	return b
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
