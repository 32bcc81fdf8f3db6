-- Written by scripts/make_mariadb_legacy_databases.py: django-user-tasks==3.4.3 migrated and filled under Django 4.2.30, MariaDB 10.11.19-MariaDB-0+deb12u1.
/*M!999999\- enable the sandbox mode */ 

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;
DROP TABLE IF EXISTS `auth_group`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `auth_group` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(150) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `name` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `auth_group` WRITE;
/*!40000 ALTER TABLE `auth_group` DISABLE KEYS */;
/*!40000 ALTER TABLE `auth_group` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `auth_group_permissions`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `auth_group_permissions` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `group_id` int(11) NOT NULL,
  `permission_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `auth_group_permissions_group_id_permission_id_0cd325b0_uniq` (`group_id`,`permission_id`),
  KEY `auth_group_permissio_permission_id_84c5c92e_fk_auth_perm` (`permission_id`),
  CONSTRAINT `auth_group_permissio_permission_id_84c5c92e_fk_auth_perm` FOREIGN KEY (`permission_id`) REFERENCES `auth_permission` (`id`),
  CONSTRAINT `auth_group_permissions_group_id_b120cbf9_fk_auth_group_id` FOREIGN KEY (`group_id`) REFERENCES `auth_group` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `auth_group_permissions` WRITE;
/*!40000 ALTER TABLE `auth_group_permissions` DISABLE KEYS */;
/*!40000 ALTER TABLE `auth_group_permissions` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `auth_permission`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `auth_permission` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(255) NOT NULL,
  `content_type_id` int(11) NOT NULL,
  `codename` varchar(100) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `auth_permission_content_type_id_codename_01ab375a_uniq` (`content_type_id`,`codename`),
  CONSTRAINT `auth_permission_content_type_id_2f476e4b_fk_django_co` FOREIGN KEY (`content_type_id`) REFERENCES `django_content_type` (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=25 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `auth_permission` WRITE;
/*!40000 ALTER TABLE `auth_permission` DISABLE KEYS */;
INSERT INTO `auth_permission` VALUES (1,'Can add permission',1,'add_permission');
INSERT INTO `auth_permission` VALUES (2,'Can change permission',1,'change_permission');
INSERT INTO `auth_permission` VALUES (3,'Can delete permission',1,'delete_permission');
INSERT INTO `auth_permission` VALUES (4,'Can view permission',1,'view_permission');
INSERT INTO `auth_permission` VALUES (5,'Can add group',2,'add_group');
INSERT INTO `auth_permission` VALUES (6,'Can change group',2,'change_group');
INSERT INTO `auth_permission` VALUES (7,'Can delete group',2,'delete_group');
INSERT INTO `auth_permission` VALUES (8,'Can view group',2,'view_group');
INSERT INTO `auth_permission` VALUES (9,'Can add user',3,'add_user');
INSERT INTO `auth_permission` VALUES (10,'Can change user',3,'change_user');
INSERT INTO `auth_permission` VALUES (11,'Can delete user',3,'delete_user');
INSERT INTO `auth_permission` VALUES (12,'Can view user',3,'view_user');
INSERT INTO `auth_permission` VALUES (13,'Can add content type',4,'add_contenttype');
INSERT INTO `auth_permission` VALUES (14,'Can change content type',4,'change_contenttype');
INSERT INTO `auth_permission` VALUES (15,'Can delete content type',4,'delete_contenttype');
INSERT INTO `auth_permission` VALUES (16,'Can view content type',4,'view_contenttype');
INSERT INTO `auth_permission` VALUES (17,'Can add user task artifact',5,'add_usertaskartifact');
INSERT INTO `auth_permission` VALUES (18,'Can change user task artifact',5,'change_usertaskartifact');
INSERT INTO `auth_permission` VALUES (19,'Can delete user task artifact',5,'delete_usertaskartifact');
INSERT INTO `auth_permission` VALUES (20,'Can view user task artifact',5,'view_usertaskartifact');
INSERT INTO `auth_permission` VALUES (21,'Can add user task status',6,'add_usertaskstatus');
INSERT INTO `auth_permission` VALUES (22,'Can change user task status',6,'change_usertaskstatus');
INSERT INTO `auth_permission` VALUES (23,'Can delete user task status',6,'delete_usertaskstatus');
INSERT INTO `auth_permission` VALUES (24,'Can view user task status',6,'view_usertaskstatus');
/*!40000 ALTER TABLE `auth_permission` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `auth_user`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `auth_user` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `password` varchar(128) NOT NULL,
  `last_login` datetime(6) DEFAULT NULL,
  `is_superuser` tinyint(1) NOT NULL,
  `username` varchar(150) NOT NULL,
  `first_name` varchar(150) NOT NULL,
  `last_name` varchar(150) NOT NULL,
  `email` varchar(254) NOT NULL,
  `is_staff` tinyint(1) NOT NULL,
  `is_active` tinyint(1) NOT NULL,
  `date_joined` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `username` (`username`)
) ENGINE=InnoDB AUTO_INCREMENT=4 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `auth_user` WRITE;
/*!40000 ALTER TABLE `auth_user` DISABLE KEYS */;
INSERT INTO `auth_user` VALUES (1,'pbkdf2_sha256$600000$LRbGPlOyNDEdUQ9uNHYAc7$T+9NDA/DKe5wCjC7LwKUQINTobokFqBtpSII85onzOY=',NULL,0,'legacy','','','legacy@example.com',0,1,'2026-11-29 15:10:09.685674');
INSERT INTO `auth_user` VALUES (2,'pbkdf2_sha256$600000$dLaHXXZRY6SLn5u52oxp45$3f+9iCI71+fgwfrlckcP7SHNGN9hnRRTOvQW82uzLz0=',NULL,0,'zoë','','','zoe@example.com',0,1,'2026-11-29 15:10:09.837002');
INSERT INTO `auth_user` VALUES (3,'pbkdf2_sha256$600000$6hsxxrTIjX54gI8CqzJ2eD$rWop1eZigjIFNm7Xs4EOWVw2z0QBs2CMj3Oqgqb4HdY=',NULL,0,'idle','','','idle@example.com',0,1,'2026-11-29 15:10:09.985166');
/*!40000 ALTER TABLE `auth_user` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `auth_user_groups`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `auth_user_groups` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `user_id` int(11) NOT NULL,
  `group_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `auth_user_groups_user_id_group_id_94350c0c_uniq` (`user_id`,`group_id`),
  KEY `auth_user_groups_group_id_97559544_fk_auth_group_id` (`group_id`),
  CONSTRAINT `auth_user_groups_group_id_97559544_fk_auth_group_id` FOREIGN KEY (`group_id`) REFERENCES `auth_group` (`id`),
  CONSTRAINT `auth_user_groups_user_id_6a12ed8b_fk_auth_user_id` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `auth_user_groups` WRITE;
/*!40000 ALTER TABLE `auth_user_groups` DISABLE KEYS */;
/*!40000 ALTER TABLE `auth_user_groups` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `auth_user_user_permissions`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `auth_user_user_permissions` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `user_id` int(11) NOT NULL,
  `permission_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `auth_user_user_permissions_user_id_permission_id_14a6b632_uniq` (`user_id`,`permission_id`),
  KEY `auth_user_user_permi_permission_id_1fbb5f2c_fk_auth_perm` (`permission_id`),
  CONSTRAINT `auth_user_user_permi_permission_id_1fbb5f2c_fk_auth_perm` FOREIGN KEY (`permission_id`) REFERENCES `auth_permission` (`id`),
  CONSTRAINT `auth_user_user_permissions_user_id_a95ead1b_fk_auth_user_id` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `auth_user_user_permissions` WRITE;
/*!40000 ALTER TABLE `auth_user_user_permissions` DISABLE KEYS */;
/*!40000 ALTER TABLE `auth_user_user_permissions` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `django_content_type`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `django_content_type` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `app_label` varchar(100) NOT NULL,
  `model` varchar(100) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `django_content_type_app_label_model_76bd3d3b_uniq` (`app_label`,`model`)
) ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `django_content_type` WRITE;
/*!40000 ALTER TABLE `django_content_type` DISABLE KEYS */;
INSERT INTO `django_content_type` VALUES (2,'auth','group');
INSERT INTO `django_content_type` VALUES (1,'auth','permission');
INSERT INTO `django_content_type` VALUES (3,'auth','user');
INSERT INTO `django_content_type` VALUES (4,'contenttypes','contenttype');
INSERT INTO `django_content_type` VALUES (5,'user_tasks','usertaskartifact');
INSERT INTO `django_content_type` VALUES (6,'user_tasks','usertaskstatus');
/*!40000 ALTER TABLE `django_content_type` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `django_migrations`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `django_migrations` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `app` varchar(255) NOT NULL,
  `name` varchar(255) NOT NULL,
  `applied` datetime(6) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=19 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `django_migrations` WRITE;
/*!40000 ALTER TABLE `django_migrations` DISABLE KEYS */;
INSERT INTO `django_migrations` VALUES (1,'contenttypes','0001_initial','2026-11-29 15:10:09.451802');
INSERT INTO `django_migrations` VALUES (2,'contenttypes','0002_remove_content_type_name','2026-11-29 15:10:09.463380');
INSERT INTO `django_migrations` VALUES (3,'auth','0001_initial','2026-11-29 15:10:09.533967');
INSERT INTO `django_migrations` VALUES (4,'auth','0002_alter_permission_name_max_length','2026-11-29 15:10:09.545583');
INSERT INTO `django_migrations` VALUES (5,'auth','0003_alter_user_email_max_length','2026-11-29 15:10:09.553788');
INSERT INTO `django_migrations` VALUES (6,'auth','0004_alter_user_username_opts','2026-11-29 15:10:09.558235');
INSERT INTO `django_migrations` VALUES (7,'auth','0005_alter_user_last_login_null','2026-11-29 15:10:09.568968');
INSERT INTO `django_migrations` VALUES (8,'auth','0006_require_contenttypes_0002','2026-11-29 15:10:09.569965');
INSERT INTO `django_migrations` VALUES (9,'auth','0007_alter_validators_add_error_messages','2026-11-29 15:10:09.573604');
INSERT INTO `django_migrations` VALUES (10,'auth','0008_alter_user_username_max_length','2026-11-29 15:10:09.580342');
INSERT INTO `django_migrations` VALUES (11,'auth','0009_alter_user_last_name_max_length','2026-11-29 15:10:09.586793');
INSERT INTO `django_migrations` VALUES (12,'auth','0010_alter_group_name_max_length','2026-11-29 15:10:09.593120');
INSERT INTO `django_migrations` VALUES (13,'auth','0011_update_proxy_permissions','2026-11-29 15:10:09.597705');
INSERT INTO `django_migrations` VALUES (14,'auth','0012_alter_user_first_name_max_length','2026-11-29 15:10:09.604316');
INSERT INTO `django_migrations` VALUES (15,'user_tasks','0001_initial','2026-11-29 15:10:09.639579');
INSERT INTO `django_migrations` VALUES (16,'user_tasks','0002_artifact_file_storage','2026-11-29 15:10:09.644720');
INSERT INTO `django_migrations` VALUES (17,'user_tasks','0003_url_max_length','2026-11-29 15:10:09.653834');
INSERT INTO `django_migrations` VALUES (18,'user_tasks','0004_url_textfield','2026-11-29 15:10:09.662957');
/*!40000 ALTER TABLE `django_migrations` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `user_tasks_usertaskartifact`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `user_tasks_usertaskartifact` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `uuid` char(32) NOT NULL,
  `name` varchar(255) NOT NULL,
  `file` varchar(100) DEFAULT NULL,
  `url` longtext NOT NULL,
  `text` longtext NOT NULL,
  `status_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uuid` (`uuid`),
  KEY `user_tasks_usertaska_status_id_641f31be_fk_user_task` (`status_id`),
  CONSTRAINT `user_tasks_usertaska_status_id_641f31be_fk_user_task` FOREIGN KEY (`status_id`) REFERENCES `user_tasks_usertaskstatus` (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `user_tasks_usertaskartifact` WRITE;
/*!40000 ALTER TABLE `user_tasks_usertaskartifact` DISABLE KEYS */;
INSERT INTO `user_tasks_usertaskartifact` VALUES (1,'2025-03-04 05:06:07.890123','2025-03-04 05:06:07.890123','339caeec737246fa8964fbb39d947415','Output','user_tasks/2025/03/04/report.csv','','',2);
INSERT INTO `user_tasks_usertaskartifact` VALUES (2,'2025-03-04 05:06:07.890123','2025-03-04 05:06:07.890123','d453c9f11e9c400bac535017d2b6b4e7','Link','','https://example.com/rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr','',2);
INSERT INTO `user_tasks_usertaskartifact` VALUES (3,'2025-03-04 05:06:07.890123','2025-03-04 05:06:07.890123','74ae1072c9744252aea6be233bc64810','Error','','','Row 17 is invalid',2);
INSERT INTO `user_tasks_usertaskartifact` VALUES (4,'2025-03-04 05:06:07.890123','2025-03-04 05:06:07.890123','cbfa5090177b419793b14118e2a8c1e6','Error','','','Ligne 3 : adresse invalide ✗',4);
/*!40000 ALTER TABLE `user_tasks_usertaskartifact` ENABLE KEYS */;
UNLOCK TABLES;
DROP TABLE IF EXISTS `user_tasks_usertaskstatus`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `user_tasks_usertaskstatus` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `uuid` char(32) NOT NULL,
  `task_id` varchar(128) NOT NULL,
  `is_container` tinyint(1) NOT NULL,
  `task_class` varchar(128) NOT NULL,
  `name` varchar(255) NOT NULL,
  `state` varchar(128) NOT NULL,
  `completed_steps` smallint(5) unsigned NOT NULL CHECK (`completed_steps` >= 0),
  `total_steps` smallint(5) unsigned NOT NULL CHECK (`total_steps` >= 0),
  `attempts` smallint(5) unsigned NOT NULL CHECK (`attempts` >= 0),
  `parent_id` int(11) DEFAULT NULL,
  `user_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uuid` (`uuid`),
  UNIQUE KEY `task_id` (`task_id`),
  KEY `user_tasks_usertasks_parent_id_5009f727_fk_user_task` (`parent_id`),
  KEY `user_tasks_usertaskstatus_user_id_5bec3d4a_fk_auth_user_id` (`user_id`),
  CONSTRAINT `user_tasks_usertasks_parent_id_5009f727_fk_user_task` FOREIGN KEY (`parent_id`) REFERENCES `user_tasks_usertaskstatus` (`id`),
  CONSTRAINT `user_tasks_usertaskstatus_user_id_5bec3d4a_fk_auth_user_id` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `user_tasks_usertaskstatus` WRITE;
/*!40000 ALTER TABLE `user_tasks_usertaskstatus` DISABLE KEYS */;
INSERT INTO `user_tasks_usertaskstatus` VALUES (1,'2025-03-04 05:06:07.890123','2025-03-04 05:06:07.890123','bbacda2ec6514edc9f164abfb31e9b59','chain-1',1,'celery.chain','Yearly report','In Progress',100,32767,1,NULL,1);
INSERT INTO `user_tasks_usertaskstatus` VALUES (2,'2025-03-04 05:06:07.890123','2025-03-04 05:06:07.890123','619ac2bac2ce4899a7694f4b19cdd24f','task-1',0,'reports.tasks.export','Export 2024','Succeeded',32767,32767,3,1,1);
INSERT INTO `user_tasks_usertaskstatus` VALUES (3,'2025-03-04 05:06:07.890123','2025-03-04 05:06:07.890123','8db504ef82064050a9e71d15e05e449e','task-2',0,'reports.tasks.mail','Mail it','Sending e-mails',0,1,1,1,1);
INSERT INTO `user_tasks_usertaskstatus` VALUES (4,'2025-03-04 05:06:07.890123','2025-03-04 05:06:07.890123','64f2b889b10e41b3bdbaccae4bdb2f4b','import-1',0,'contacts.tasks.import_contacts','Import « contacts » 📇','Failed',2,3,1,NULL,2);
/*!40000 ALTER TABLE `user_tasks_usertaskstatus` ENABLE KEYS */;
UNLOCK TABLES;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;
