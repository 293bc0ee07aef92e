ALTER TABLE `videos` ADD `client_key` text;--> statement-breakpoint
CREATE INDEX `videos_client_status` ON `videos` (`client_key`,`status`);