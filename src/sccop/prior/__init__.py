"""Direct prediction: composition -> likely space groups, learned from Materials Project crystals, used
as a prior over the groups the sampler draws (`[sampler] group_prior = "model"`)."""
