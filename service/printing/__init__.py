"""Printable records: the transcript (培训学时档案) and hours certificates (学时证明) as PDF, with a
QR code to their check page (fpdf2 for the PDF, segno for the QR, a CJK TrueType font)."""
