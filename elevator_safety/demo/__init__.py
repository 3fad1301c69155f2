"""Demo data: a small realistic city for training and trying the product."""
