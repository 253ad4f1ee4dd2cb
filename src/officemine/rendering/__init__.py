"""Drawing and writing the deliverables: the PDF pages and their layout, the workbook and JSON
companions, the HTML index, the weekly digest's page. It takes result objects and never
decides what they say."""
