"""Pure arithmetic that validation and the rooms' planners share (subnet layout, Lustre
sizing, model memory fit): standard library only, below the spec layer, so each rule is
computed in one place."""
