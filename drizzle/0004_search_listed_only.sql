-- Search may return only public, ready videos, so only those are indexed:
-- an index over every row let bm25 scores (which cursors carry) reveal
-- whether unlisted, failed or unfinished videos contain a word. A row enters
-- the index when it becomes searchable and leaves it when it stops being so;
-- FTS5 external-content deletes must name exactly what was indexed, hence the
-- WHEN clauses on the old row.
DROP TRIGGER `videos_fts_insert`;
--> statement-breakpoint
DROP TRIGGER `videos_fts_delete`;
--> statement-breakpoint
DROP TRIGGER `videos_fts_update`;
--> statement-breakpoint
INSERT INTO `videos_fts` (videos_fts) VALUES ('delete-all');
--> statement-breakpoint
INSERT INTO `videos_fts` (rowid, title, tags, description)
	SELECT rowid, title, tags, description FROM `videos` WHERE visibility = 'public' AND status = 'ready';
--> statement-breakpoint
CREATE TRIGGER `videos_fts_insert` AFTER INSERT ON `videos`
	WHEN new.visibility = 'public' AND new.status = 'ready' BEGIN
	INSERT INTO videos_fts (rowid, title, tags, description) VALUES (new.rowid, new.title, new.tags, new.description);
END;
--> statement-breakpoint
CREATE TRIGGER `videos_fts_delete` AFTER DELETE ON `videos`
	WHEN old.visibility = 'public' AND old.status = 'ready' BEGIN
	INSERT INTO videos_fts (videos_fts, rowid, title, tags, description) VALUES ('delete', old.rowid, old.title, old.tags, old.description);
END;
--> statement-breakpoint
CREATE TRIGGER `videos_fts_update` AFTER UPDATE OF title, tags, description, status, visibility ON `videos` BEGIN
	INSERT INTO videos_fts (videos_fts, rowid, title, tags, description)
		SELECT 'delete', old.rowid, old.title, old.tags, old.description
		WHERE old.visibility = 'public' AND old.status = 'ready';
	INSERT INTO videos_fts (rowid, title, tags, description)
		SELECT new.rowid, new.title, new.tags, new.description
		WHERE new.visibility = 'public' AND new.status = 'ready';
END;
