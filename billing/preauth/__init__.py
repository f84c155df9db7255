"""Insurance pre-authorization requests: assembled from the record, reviewed by staff, submitted as a PDF packet
through the payer's channel by a worker, followed up and renewed on a schedule."""
