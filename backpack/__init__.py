"""The learner's backpack: an account by e-mail link (`accounts`), the badges this hub issued
to the verified address and badges imported from elsewhere (`items`), sharing them
(`sharing`: profile, collections, the zip of everything), and leaving (`leave`)."""
