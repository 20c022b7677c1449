"""Step 1 of the journey: reading users' files as their systems export them."""
