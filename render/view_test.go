package render

import "testing"

func TestViewMapsTheWallIntoTheWindow(t *testing.T) {
	for _, tc := range []struct {
		winW, winH        int
		scale, offX, offY float64
	}{
		{400, 200, 0.05, 0, 0},    // same aspect: fills the window
		{400, 400, 0.05, 0, 100},  // taller window: bars above and below
		{1000, 200, 0.05, 300, 0}, // wider window: bars left and right
		{7680, 3840, 0.96, 0, 0},  // 8K wall
	} {
		v := NewView(8000, 4000, tc.winW, tc.winH)
		if v.Scale != tc.scale || v.OffX != tc.offX || v.OffY != tc.offY {
			t.Errorf("%dx%d: view %+v, want scale %v offset %v,%v", tc.winW, tc.winH, v, tc.scale, tc.offX, tc.offY)
		}
		for _, p := range [][2]int32{{0, 0}, {7999, 3999}, {2000, 1234}} {
			px, py := v.Px(p[0], p[1])
			if x, y := v.MM(px, py); x != p[0] || y != p[1] {
				t.Errorf("%dx%d: (%d,%d) mm -> px (%v,%v) -> (%d,%d) mm", tc.winW, tc.winH, p[0], p[1], px, py, x, y)
			}
		}
	}
}
