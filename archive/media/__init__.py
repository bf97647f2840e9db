"""What reads one media file and makes pixels: media types, external programs,
metadata extraction, thumbnails and posters. Nothing here touches the catalog."""
