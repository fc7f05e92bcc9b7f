package render

import (
	"testing"

	"github.com/hajimehoshi/ebiten/v2"
)

// maxDrawAllocs is the bound of issue 11 on a dense frame's allocations after warm-up: a handful,
// none from tapwall. A frame is two draw calls (the static layer, then one batch), and Ebiten's
// command queue allocates for each: graphicscommand.(*commandQueue).EnqueueDrawTrianglesCommand
// copies the call's uniforms (prependPreservedUniforms: "Allocating a new slice is necessary") and
// gives a new command its dstRegions slice. testing.AllocsPerRun draws twice in a frame (its
// warm-up and its run), so it sees those of both: 4 (a memory profile of one Draw a frame shows 3,
// all there, and BenchmarkDrawDense reports 2).
const maxDrawAllocs = 5

// TestDrawDenseAllocatesAlmostNothing draws the dense frame (8 lanes, 30 objects, 80 touches,
// effects of many hits) in real frames after warm-up and counts the allocations of each Draw.
func TestDrawDenseAllocatesAlmostNothing(t *testing.T) {
	a, _ := newDenseApp(t)
	var img *ebiten.Image
	onFrame(func(*ebiten.Image) { img = ebiten.NewImage(1920, 960) })
	for i := 0; i < 5; i++ {
		onFrame(func(*ebiten.Image) { a.Draw(img) })
	}
	worst := 0.0
	for i := 0; i < 8; i++ {
		onFrame(func(*ebiten.Image) {
			n := testing.AllocsPerRun(1, func() { a.Draw(img) })
			worst = max(worst, n)
		})
	}
	t.Logf("allocations per Draw of the dense frame: %v", worst)
	if worst > maxDrawAllocs {
		t.Fatalf("a dense frame allocates %v times after warm-up, want at most %d", worst, maxDrawAllocs)
	}
}
