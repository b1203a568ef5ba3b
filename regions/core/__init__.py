"""What every engine shares: tolerances, results, affine pieces, atomic files."""
