"""Native Excel charts for the results' Summary sheet: histogram buckets of the rows' run
times (`buckets`), the tables the charts read (`tables`) and their DrawingML parts (`drawing`).

The charts are plain OOXML parts beside the sheets, drawn by Excel or LibreOffice from
cells of the Summary sheet: no image is rendered here and nothing new is installed."""
