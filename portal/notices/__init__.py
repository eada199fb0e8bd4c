"""Formal letters to cardholders: the words (letters.py), the PDF (pdf.py), the look-ups."""
