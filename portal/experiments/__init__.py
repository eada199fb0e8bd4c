"""Champion and challenger: risk tries two variants of the ready-made offers or of a reminder's
wording on accounts assigned at random, and reads the outcomes side by side."""
